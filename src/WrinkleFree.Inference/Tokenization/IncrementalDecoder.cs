using System.Buffers;
using System.Text;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// Turns a stream of token ids into text for streaming output. A UTF-8 sequence split across tokens is held back until it
/// is complete, so no piece ever contains half a character; the pieces joined equal <see cref="Tokenizer.Decode"/>.
/// </summary>
public sealed class IncrementalDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private readonly ArrayBufferWriter<byte> _bytes = new(64);
    private char[] _chars = new char[64];
    private bool _atTextStart = true;

    internal IncrementalDecoder(Tokenizer tokenizer, bool skipSpecial)
    {
        _tokenizer = tokenizer;
        _skipSpecial = skipSpecial;
    }

    /// <summary>Adds one token and returns the text it completes (possibly empty).</summary>
    public string Push(int id)
    {
        _bytes.ResetWrittenCount();
        _tokenizer.AppendPiece(id, _skipSpecial, ref _atTextStart, _bytes);
        return Convert(_bytes.WrittenSpan, flush: false);
    }

    /// <summary>Returns whatever is still held (an incomplete sequence becomes U+FFFD, as in Decode) and resets.</summary>
    public string Flush()
    {
        var text = Convert([], flush: true);
        _atTextStart = true;
        return text;
    }

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        // System.Text.Decoder keeps the incomplete tail between calls and replaces invalid bytes exactly as GetString does.
        var needed = _utf8.GetCharCount(bytes, flush);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }

        var written = _utf8.GetChars(bytes, _chars, flush);
        return written == 0 ? string.Empty : new string(_chars, 0, written);
    }
}
