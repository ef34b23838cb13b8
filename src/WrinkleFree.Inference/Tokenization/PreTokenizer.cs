using System.Globalization;
using System.Text.RegularExpressions;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// Splits text into words the way llama.cpp's <c>unicode_regex_split</c> does for a <c>tokenizer.ggml.pre</c> value:
/// each regex in turn splits every word produced by the previous one, and text between matches stays a word of its own.
/// </summary>
internal sealed partial class PreTokenizer
{
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string Llama3 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Punctuation = @"[\p{P}\$\+<=>\^~\|`]+";
    private const string Digits = @"\p{N}+";
    private const string ThreeDigits = "[0-9][0-9][0-9]";

    private readonly Regex[] _regexes;

    private PreTokenizer(string name, params Regex[] regexes)
    {
        Name = name;
        _regexes = regexes;
    }

    /// <summary>The canonical pre-tokenizer name ("gpt-2", "llama3", "qwen2", "falcon" or "default").</summary>
    public string Name { get; }

    /// <summary>
    /// The pre-tokenizer for a <c>tokenizer.ggml.pre</c> value, with llama.cpp's aliases; null when it is not one we know.
    /// An absent value means "default", as in llama.cpp.
    /// </summary>
    public static PreTokenizer? ForName(string? pre) => pre switch
    {
        null or "" or "default" => new("default", PunctuationRegex(), Gpt2Regex(), DigitsRegex(), ThreeDigitsRegex()),
        "gpt-2" or "gpt2" or "phi-2" or "jina-es" or "jina-de" or "roberta-bpe" => new("gpt-2", Gpt2Regex()),
        "llama3" or "llama-v3" or "llama-bpe" => new("llama3", Llama3Regex()),
        "qwen2" => new("qwen2", Qwen2Regex()),
        "falcon" => new("falcon", PunctuationRegex(), Gpt2Regex(), ThreeDigitsRegex()),
        _ => null,
    };

    /// <summary>Appends the words of <paramref name="text"/> as (start, length) ranges of UTF-16 indices, in order.</summary>
    public void Split(string text, List<Range> words)
    {
        // llama.cpp matches on code points; .NET regexes match UTF-16 units, so a supplementary character would be two
        // "other" units and could pair up with a neighbour differently. Collapse each such character to one BMP stand-in
        // of the same class, match on that, and map the offsets back.
        var matchText = text;
        int[]? unitStart = null;
        if (HasSurrogates(text))
        {
            (matchText, unitStart) = Collapse(text);
        }

        var offsets = new List<int> { matchText.Length };
        foreach (var regex in _regexes)
        {
            var next = new List<int>(offsets.Count * 2);
            var start = 0;
            foreach (var length in offsets)
            {
                var end = start + length;
                var done = start;
                // Match(input, beginning, length) treats the range as the whole input, so lookaheads stop at the word's end
                // as they do in llama.cpp, which runs each regex on one word at a time.
                for (var m = regex.Match(matchText, start, length); m.Success; m = m.NextMatch())
                {
                    if (m.Length == 0)
                    {
                        continue;
                    }

                    if (m.Index > done)
                    {
                        next.Add(m.Index - done);
                    }

                    next.Add(m.Length);
                    done = m.Index + m.Length;
                }

                if (done < end)
                {
                    next.Add(end - done);
                }

                start = end;
            }

            offsets = next;
        }

        var position = 0;
        foreach (var length in offsets)
        {
            var from = unitStart is null ? position : unitStart[position];
            var to = unitStart is null ? position + length : unitStart[position + length];
            words.Add(new Range(from, to));
            position += length;
        }
    }

    private static bool HasSurrogates(string text)
    {
        foreach (var c in text)
        {
            if (char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }

    private static (string Collapsed, int[] UnitStart) Collapse(string text)
    {
        var chars = new List<char>(text.Length);
        var unitStart = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length; i++)
        {
            unitStart.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                chars.Add(StandIn(category));
                i++;
            }
            else
            {
                // A lone surrogate is category Cs, an "other" character, as the U+FFFD it becomes in UTF-8.
                chars.Add(text[i]);
            }
        }

        unitStart.Add(text.Length);
        return (new string(chars.ToArray()), unitStart.ToArray());
    }

    // BMP characters whose regex classes (\p{L}, \p{N}, \p{P}, \s, [0-9], \r\n) match those of the category they stand for.
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => '\u4E00',
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => '\u0660',
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => '\u00A1',
        _ => '\u00A6',
    };

    [GeneratedRegex(Gpt2, RegexOptions.CultureInvariant)]
    private static partial Regex Gpt2Regex();

    [GeneratedRegex(Llama3, RegexOptions.CultureInvariant)]
    private static partial Regex Llama3Regex();

    [GeneratedRegex(Qwen2, RegexOptions.CultureInvariant)]
    private static partial Regex Qwen2Regex();

    [GeneratedRegex(Punctuation, RegexOptions.CultureInvariant)]
    private static partial Regex PunctuationRegex();

    [GeneratedRegex(Digits, RegexOptions.CultureInvariant)]
    private static partial Regex DigitsRegex();

    [GeneratedRegex(ThreeDigits, RegexOptions.CultureInvariant)]
    private static partial Regex ThreeDigitsRegex();
}
