using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WrinkleFree.Jinja.Syntax;

/// <summary>
/// Splits a template into text and tag tokens, applying whitespace control the way transformers' environment does:
/// trim_blocks and lstrip_blocks on, '-' strips all whitespace on its side, '+' turns the block rules off.
/// </summary>
internal sealed partial class JinjaLexer
{
    // Longest first so that "//" wins over "/", "==" over "=".
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

    private readonly string _src;
    private readonly List<int> _lineStarts = [0];
    private readonly List<JinjaToken> _tokens = [];
    private int _pos;
    private bool _stripNextLeading;

    private JinjaLexer(string source)
    {
        _src = source;
        for (var i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
            {
                _lineStarts.Add(i + 1);
            }
        }
    }

    public static List<JinjaToken> Tokenize(string source)
    {
        var lexer = new JinjaLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    [GeneratedRegex(@"\{%([-+]?)\s*endraw\s*([-+]?)%\}")]
    private static partial Regex EndRawRegex();

    private void Run()
    {
        while (true)
        {
            var tagStart = FindTagStart(_pos);
            var textStart = _pos;
            var text = _src[_pos..(tagStart < 0 ? _src.Length : tagStart)];
            if (_stripNextLeading)
            {
                text = text.TrimStart();
                _stripNextLeading = false;
            }

            if (tagStart < 0)
            {
                EmitText(text, textStart);
                break;
            }

            var kind = _src[tagStart + 1];
            var modifier = tagStart + 2 < _src.Length ? _src[tagStart + 2] : '\0';
            var hasModifier = modifier == '-' || (modifier == '+' && kind != '{');
            if (modifier == '-')
            {
                text = text.TrimEnd();
            }
            else if (modifier != '+' && kind != '{')
            {
                text = LstripBlock(text, textStart);
            }

            EmitText(text, textStart);
            var contentStart = tagStart + 2 + (hasModifier ? 1 : 0);
            if (kind == '#')
            {
                LexComment(tagStart, contentStart);
            }
            else
            {
                LexTag(tagStart, contentStart, kind == '{');
            }
        }

        var (line, col) = Position(_src.Length);
        _tokens.Add(new JinjaToken(JinjaTokenKind.Eof, "", line, col));
    }

    private int FindTagStart(int from)
    {
        var i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length)
            {
                return -1;
            }

            var next = _src[i + 1];
            if (next is '{' or '%' or '#')
            {
                return i;
            }

            i++;
        }
    }

    // lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are removed.
    private string LstripBlock(string text, int textStart)
    {
        var nl = text.LastIndexOf('\n');
        var tail = nl < 0 ? text : text[(nl + 1)..];
        foreach (var c in tail)
        {
            if (c is not (' ' or '\t'))
            {
                return text;
            }
        }

        if (nl >= 0)
        {
            return text[..(nl + 1)];
        }

        return textStart == 0 || _src[textStart - 1] == '\n' ? "" : text;
    }

    private void EmitText(string text, int offset)
    {
        if (text.Length > 0)
        {
            var (line, col) = Position(offset);
            _tokens.Add(new JinjaToken(JinjaTokenKind.Text, text, line, col));
        }
    }

    private void LexComment(int tagStart, int contentStart)
    {
        var end = _src.IndexOf("#}", contentStart, StringComparison.Ordinal);
        if (end < 0)
        {
            throw Error("unclosed comment, expected '#}'", tagStart);
        }

        var closeModifier = end - 1 >= contentStart ? _src[end - 1] : '\0';
        _pos = end + 2;
        AfterTagEnd(closeModifier, isBlock: true);
    }

    private void AfterTagEnd(char closeModifier, bool isBlock)
    {
        if (closeModifier == '-')
        {
            _stripNextLeading = true;
        }
        else if (isBlock && closeModifier != '+')
        {
            // trim_blocks: the first newline after a block or comment tag is removed.
            if (_pos < _src.Length && _src[_pos] == '\n')
            {
                _pos++;
            }
            else if (_pos + 1 < _src.Length && _src[_pos] == '\r' && _src[_pos + 1] == '\n')
            {
                _pos += 2;
            }
        }
    }

    private void LexTag(int tagStart, int contentStart, bool isVar)
    {
        var (line, col) = Position(tagStart);
        var firstToken = _tokens.Count;
        _tokens.Add(new JinjaToken(isVar ? JinjaTokenKind.VarBegin : JinjaTokenKind.BlockBegin, "", line, col));
        var closer = isVar ? "}}" : "%}";
        _pos = contentStart;
        var brackets = new Stack<char>();
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos]))
            {
                _pos++;
            }

            if (_pos >= _src.Length)
            {
                throw Error($"unclosed tag, expected '{closer}'", tagStart);
            }

            var c = _src[_pos];
            if (brackets.Count == 0)
            {
                var modifier = '\0';
                if ((c == '-' || (c == '+' && !isVar)) && string.CompareOrdinal(_src, _pos + 1, closer, 0, 2) == 0)
                {
                    modifier = c;
                }

                if (modifier != '\0' || string.CompareOrdinal(_src, _pos, closer, 0, 2) == 0)
                {
                    var (eline, ecol) = Position(_pos);
                    _tokens.Add(new JinjaToken(isVar ? JinjaTokenKind.VarEnd : JinjaTokenKind.BlockEnd, "", eline, ecol));
                    _pos += 2 + (modifier != '\0' ? 1 : 0);
                    AfterTagEnd(modifier, !isVar);
                    if (!isVar && _tokens.Count - firstToken == 3 && _tokens[firstToken + 1].IsName("raw"))
                    {
                        _tokens.RemoveRange(firstToken, 3);
                        LexRaw(tagStart);
                    }

                    return;
                }
            }

            var start = _pos;
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (_pos < _src.Length && (char.IsAsciiLetterOrDigit(_src[_pos]) || _src[_pos] == '_'))
                {
                    _pos++;
                }

                Add(JinjaTokenKind.Name, _src[start.._pos], start);
            }
            else if (char.IsAsciiDigit(c))
            {
                LexNumber(start);
            }
            else if (c is '\'' or '"')
            {
                Add(JinjaTokenKind.String, LexString(c), start);
            }
            else
            {
                var op = MatchOperator();
                if (op is null)
                {
                    throw Error($"unexpected character '{c}'", _pos);
                }

                if (op is "(" or "[" or "{")
                {
                    brackets.Push(op[0] switch { '(' => ')', '[' => ']', _ => '}' });
                }
                else if (op is ")" or "]" or "}")
                {
                    if (brackets.Count == 0 || brackets.Pop() != op[0])
                    {
                        throw Error($"unexpected '{op}'", _pos);
                    }
                }

                _pos += op.Length;
                Add(JinjaTokenKind.Operator, op, start);
            }
        }
    }

    private void LexRaw(int tagStart)
    {
        var match = EndRawRegex().Match(_src, _pos);
        if (!match.Success)
        {
            throw Error("missing '{% endraw %}'", tagStart);
        }

        var text = _src[_pos..match.Index];
        if (_stripNextLeading)
        {
            text = text.TrimStart();
            _stripNextLeading = false;
        }

        text = match.Groups[1].Value == "-" ? text.TrimEnd() : match.Groups[1].Value == "+" ? text : LstripBlock(text, _pos);
        EmitText(text, _pos);
        _pos = match.Index + match.Length;
        AfterTagEnd(match.Groups[2].Value.Length > 0 ? match.Groups[2].Value[0] : '\0', isBlock: true);
    }

    private string? MatchOperator()
    {
        foreach (var op in Operators)
        {
            if (string.CompareOrdinal(_src, _pos, op, 0, op.Length) == 0)
            {
                return op;
            }
        }

        return null;
    }

    private void LexNumber(int start)
    {
        var isFloat = false;
        SkipDigits();
        if (_pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            SkipDigits();
        }

        if (_pos < _src.Length && (_src[_pos] is 'e' or 'E'))
        {
            var save = _pos;
            _pos++;
            if (_pos < _src.Length && (_src[_pos] is '+' or '-'))
            {
                _pos++;
            }

            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            {
                isFloat = true;
                SkipDigits();
            }
            else
            {
                _pos = save;
            }
        }

        Add(isFloat ? JinjaTokenKind.Float : JinjaTokenKind.Integer, _src[start.._pos].Replace("_", "", StringComparison.Ordinal), start);
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_'))
        {
            _pos++;
        }
    }

    private string LexString(char quote)
    {
        var start = _pos;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
            {
                throw Error("unterminated string literal", start);
            }

            var c = _src[_pos++];
            if (c == quote)
            {
                return sb.ToString();
            }

            if (c != '\\' || _pos >= _src.Length)
            {
                sb.Append(c);
                continue;
            }

            var e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': break;
                case 'x': AppendHex(sb, 2, start); break;
                case 'u': AppendHex(sb, 4, start); break;
                case 'U': AppendHex(sb, 8, start); break;
                default:
                    // Python keeps unknown escapes verbatim, backslash included.
                    sb.Append('\\').Append(e);
                    break;
            }
        }
    }

    private void AppendHex(StringBuilder sb, int digits, int start)
    {
        if (_pos + digits > _src.Length
            || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
            || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
        {
            throw Error("invalid escape sequence in string literal", start);
        }

        _pos += digits;
        sb.Append(char.ConvertFromUtf32(code));
    }

    private void Add(JinjaTokenKind kind, string value, int offset)
    {
        var (line, col) = Position(offset);
        _tokens.Add(new JinjaToken(kind, value, line, col));
    }

    private (int Line, int Column) Position(int offset)
    {
        var index = _lineStarts.BinarySearch(offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return (index + 1, offset - _lineStarts[index] + 1);
    }

    private JinjaException Error(string message, int offset)
    {
        var (line, col) = Position(offset);
        return new JinjaException(message, line, col);
    }
}
