using System.Text;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// The design's pattern 1 runs <c>python -m inference_server ARGS</c>, its placeholder name for our replica server. A run
/// script that is exactly that one command, written in plain words and quotes, is run as <c>wf replica ARGS</c>; anything
/// a shell would do more with (variables, globs, pipes, redirections, several commands) is left a shell script as written.
/// </summary>
internal static class InferenceServerScript
{
    /// <summary>The module name the design uses for the replica server.</summary>
    public const string Module = "inference_server";

    private static readonly string[] Pythons = ["python", "python3"];

    // Unquoted, any of these makes the shell do more than split words; inside double quotes, '$' and '`' do.
    private const string ShellSyntax = ";&|<>()$`*?[]{}~#!\"'\\";

    /// <summary>The arguments after <c>python -m inference_server</c>, or null when <paramref name="run"/> is anything else.</summary>
    public static IReadOnlyList<string>? Arguments(string? run)
    {
        if (run is null || ShellWords(run) is not { Count: >= 3 } words)
        {
            return null;
        }

        return Pythons.Contains(words[0]) && words[1] == "-m" && words[2] == Module ? words[3..] : null;
    }

    /// <summary>Whether the script mentions the design's server name without being the one plain command recognised.</summary>
    public static bool MentionedButNotRecognised(string? run) =>
        run is not null && run.Contains(Module, StringComparison.Ordinal) && Arguments(run) is null;

    /// <summary>
    /// The words of a one-line command of plain words, single quotes, double quotes without expansions, and backslash
    /// escapes (a backslash-newline joins lines, as in the shell); null for anything else.
    /// </summary>
    internal static List<string>? ShellWords(string script)
    {
        var text = script.Replace("\\\n", " ", StringComparison.Ordinal).Trim();
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case ' ' or '\t':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    continue;
                case '\n' or '\r':
                    return null;
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        return null;
                    }

                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    i++;
                    for (; i < text.Length && text[i] != '"'; i++)
                    {
                        if (text[i] is '$' or '`')
                        {
                            return null;
                        }

                        // In double quotes a backslash escapes only these; before anything else it is itself.
                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                        {
                            i++;
                        }

                        word.Append(text[i]);
                    }

                    if (i >= text.Length)
                    {
                        return null;
                    }

                    break;
                case '\\':
                    if (i + 1 >= text.Length || text[i + 1] is '\n' or '\r')
                    {
                        return null;
                    }

                    word.Append(text[++i]);
                    break;
                default:
                    if (ShellSyntax.Contains(c, StringComparison.Ordinal))
                    {
                        return null;
                    }

                    word.Append(c);
                    break;
            }

            inWord = true;
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }
}
