using System.Globalization;

namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>
/// Parses llama.cpp's GBNF: <c>name ::= alternatives</c> rules, <c>|</c>, sequences, groups, <c>* + ? {m} {m,} {m,n}</c>,
/// string literals and character classes with escapes, <c>.</c>, and <c>#</c> comments. Repetitions become generated
/// right-recursive rules, as llama.cpp expands them. Errors name the line and column.
/// </summary>
internal sealed partial class GbnfParser
{
    /// <summary>Bound on {m,n} counts: each repetition is a chain of rules the matcher walks.</summary>
    public const int MaxRepetition = 4096;

    private readonly string _src;
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<List<List<GrammarElement>>?> _rules = [];
    private readonly Dictionary<int, int> _firstReference = [];
    private readonly List<CharClass> _classes = [];
    private int _pos;

    private GbnfParser(string source) => _src = source;

    public static CompiledGrammar Parse(string source, string root)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parser = new GbnfParser(source);
        parser.ParseRules();
        return parser.Compile(root);
    }

    private bool AtEnd => _pos >= _src.Length;

    private char Cur => _pos < _src.Length ? _src[_pos] : '\0';

    private void ParseRules()
    {
        SkipSpace(true);
        if (AtEnd)
        {
            throw Error("the grammar is empty: define at least a root rule");
        }

        while (!AtEnd)
        {
            var start = _pos;
            var name = ParseName();
            var id = RuleId(name);
            if (_rules[id] is not null)
            {
                _pos = start;
                throw Error($"rule '{name}' is defined twice");
            }

            SkipSpace(false);
            if (!_src.AsSpan(_pos).StartsWith("::=", StringComparison.Ordinal))
            {
                throw Error($"expected '::=' after rule name '{name}'");
            }

            _pos += 3;
            SkipSpace(true);
            _rules[id] = ParseAlternates(name, nested: false);
            SkipSpace(false);
            if (!AtEnd && Cur is not ('\n' or '\r'))
            {
                throw Error($"unexpected '{Cur}' in rule '{name}'");
            }

            SkipSpace(true);
        }
    }

    private List<List<GrammarElement>> ParseAlternates(string ruleName, bool nested)
    {
        var alternatives = new List<List<GrammarElement>> { ParseSequence(ruleName, nested) };
        while (true)
        {
            if (!nested)
            {
                // A top-level rule may continue on a following line that starts with '|'.
                var save = _pos;
                SkipSpace(true);
                if (Cur != '|')
                {
                    _pos = save;
                    return alternatives;
                }
            }

            if (Cur != '|')
            {
                return alternatives;
            }

            _pos++;
            SkipSpace(true);
            alternatives.Add(ParseSequence(ruleName, nested));
        }
    }

    private List<GrammarElement> ParseSequence(string ruleName, bool nested)
    {
        var seq = new List<GrammarElement>();
        var lastStart = -1;
        while (!AtEnd)
        {
            var c = Cur;
            if (c == '"')
            {
                lastStart = seq.Count;
                _pos++;
                while (Cur != '"')
                {
                    if (AtEnd || Cur is '\n' or '\r')
                    {
                        throw Error("unterminated string literal");
                    }

                    seq.Add(Char(CharClass.Single(ReadChar())));
                }

                _pos++;
            }
            else if (c == '[')
            {
                lastStart = seq.Count;
                seq.Add(Char(ParseClass()));
            }
            else if (c == '.')
            {
                lastStart = seq.Count;
                _pos++;
                seq.Add(Char(new CharClass([], negated: true)));
            }
            else if (c == '(')
            {
                lastStart = seq.Count;
                _pos++;
                SkipSpace(true);
                var inner = ParseAlternates(ruleName, nested: true);
                if (Cur != ')')
                {
                    throw Error(AtEnd ? "missing ')'" : $"expected ')' but found '{Cur}'");
                }

                _pos++;
                seq.Add(new GrammarElement(GrammarElementKind.Rule, Generated(ruleName, inner)));
            }
            else if (IsNameChar(c))
            {
                lastStart = seq.Count;
                var at = _pos;
                var id = RuleId(ParseName());
                _firstReference.TryAdd(id, at);
                seq.Add(new GrammarElement(GrammarElementKind.Rule, id));
            }
            else if (c is '*' or '+' or '?' or '{')
            {
                if (lastStart < 0)
                {
                    throw Error($"'{c}' must follow an element");
                }

                Repeat(seq, lastStart, ruleName);
                lastStart = -1;
            }
            else
            {
                break;
            }

            SkipSpace(nested);
        }

        return seq;
    }

    private void Repeat(List<GrammarElement> seq, int lastStart, string ruleName)
    {
        int min, max;
        var c = Cur;
        _pos++;
        switch (c)
        {
            case '*':
                (min, max) = (0, -1);
                break;
            case '+':
                (min, max) = (1, -1);
                break;
            case '?':
                (min, max) = (0, 1);
                break;
            default:
                SkipSpace(true);
                min = ParseInt();
                SkipSpace(true);
                max = min;
                if (Cur == ',')
                {
                    _pos++;
                    SkipSpace(true);
                    max = char.IsAsciiDigit(Cur) ? ParseInt() : -1;
                    SkipSpace(true);
                }

                if (Cur != '}')
                {
                    throw Error("expected '}' to close a repetition");
                }

                _pos++;
                if (max >= 0 && max < min)
                {
                    throw Error($"repetition {{{min},{max}}} has max < min");
                }

                break;
        }

        var item = seq.GetRange(lastStart, seq.Count - lastStart);
        seq.RemoveRange(lastStart, seq.Count - lastStart);
        for (var i = 0; i < min; i++)
        {
            seq.AddRange(item);
        }

        if (max < 0)
        {
            // r ::= item r | (empty)
            var r = NewRule(ruleName);
            _rules[r] = [[.. item, new GrammarElement(GrammarElementKind.Rule, r)], []];
            seq.Add(new GrammarElement(GrammarElementKind.Rule, r));
            return;
        }

        // (max - min) nested optionals: r1 ::= item r2 | (empty), ..., rk ::= item | (empty).
        var next = -1;
        for (var i = 0; i < max - min; i++)
        {
            var r = NewRule(ruleName);
            _rules[r] = next < 0 ? [[.. item], []] : [[.. item, new GrammarElement(GrammarElementKind.Rule, next)], []];
            next = r;
        }

        if (next >= 0)
        {
            seq.Add(new GrammarElement(GrammarElementKind.Rule, next));
        }
    }

    private int ParseInt()
    {
        var start = _pos;
        while (char.IsAsciiDigit(Cur))
        {
            _pos++;
        }

        if (start == _pos)
        {
            throw Error("expected a number in a repetition");
        }

        if (!int.TryParse(_src.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > MaxRepetition)
        {
            _pos = start;
            throw Error($"repetition count must be at most {MaxRepetition}");
        }

        return n;
    }

    private CharClass ParseClass()
    {
        _pos++;
        var negated = false;
        if (Cur == '^')
        {
            negated = true;
            _pos++;
        }

        var ranges = new List<int>();
        while (Cur != ']')
        {
            if (AtEnd)
            {
                throw Error("unterminated character class");
            }

            var low = ReadChar();
            var high = low;
            if (Cur == '-' && _pos + 1 < _src.Length && _src[_pos + 1] != ']')
            {
                _pos++;
                high = ReadChar();
                if (high < low)
                {
                    throw Error($"character range is reversed (U+{low:X4}-U+{high:X4})");
                }
            }

            ranges.Add(low);
            ranges.Add(high);
        }

        _pos++;
        return new CharClass([.. ranges], negated);
    }

    /// <summary>One code point of a literal or class, decoding escapes.</summary>
    private int ReadChar()
    {
        if (Cur != '\\')
        {
            var cp = char.IsHighSurrogate(Cur) && _pos + 1 < _src.Length ? char.ConvertToUtf32(Cur, _src[_pos + 1]) : Cur;
            _pos += cp > 0xFFFF ? 2 : 1;
            return cp;
        }

        _pos++;
        if (AtEnd)
        {
            throw Error("incomplete escape at the end of the grammar");
        }

        var e = Cur;
        _pos++;
        return e switch
        {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => 0,
            '\\' or '"' or '[' or ']' or '-' or '^' or '/' or '\'' => e,
            'x' => Hex(2),
            'u' => Hex(4),
            'U' => Hex(8),
            _ => throw ErrorAt(_pos - 2, $"unknown escape '\\{e}'"),
        };
    }

    private int Hex(int digits)
    {
        if (_pos + digits > _src.Length
            || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            || value is < 0 or > 0x10FFFF)
        {
            throw Error($"expected {digits} hex digits for a code point");
        }

        _pos += digits;
        return value;
    }

    private string ParseName()
    {
        var start = _pos;
        while (IsNameChar(Cur))
        {
            _pos++;
        }

        return start == _pos ? throw Error(AtEnd ? "expected a rule name" : $"expected a rule name but found '{Cur}'") : _src[start.._pos];
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private void SkipSpace(bool newlines)
    {
        while (!AtEnd)
        {
            var c = Cur;
            if (c is ' ' or '\t' || (newlines && c is '\n' or '\r'))
            {
                _pos++;
            }
            else if (c == '#')
            {
                while (!AtEnd && Cur is not ('\n' or '\r'))
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private GrammarElement Char(CharClass c)
    {
        _classes.Add(c);
        return new GrammarElement(GrammarElementKind.Char, _classes.Count - 1);
    }

    private int RuleId(string name)
    {
        if (!_ids.TryGetValue(name, out var id))
        {
            id = _names.Count;
            _ids[name] = id;
            _names.Add(name);
            _rules.Add(null);
        }

        return id;
    }

    private int NewRule(string baseName)
    {
        var n = _names.Count;
        var name = $"{baseName}_{n}";
        while (_ids.ContainsKey(name))
        {
            name += "_";
        }

        return RuleId(name);
    }

    private int Generated(string baseName, List<List<GrammarElement>> alternatives)
    {
        var r = NewRule(baseName);
        _rules[r] = alternatives;
        return r;
    }

    private GrammarException Error(string message) => ErrorAt(_pos, message);

    private GrammarException ErrorAt(int pos, string message)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < pos && i < _src.Length; i++)
        {
            if (_src[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return new GrammarException($"grammar line {line}, column {column}: {message}");
    }
}
