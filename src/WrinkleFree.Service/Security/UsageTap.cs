using System.Text;
using System.Text.Json;

namespace WrinkleFree.Service.Security;

/// <summary>
/// Passes a replica's response through to the client unchanged while keeping its last bytes, where the replica puts the
/// token counts: the <c>usage</c> object ends a JSON completion, and with <c>stream_options.include_usage</c> it is the
/// last chunk of a stream before <c>[DONE]</c>. Reading the counts from the response the client gets (rather than a
/// side channel such as a trailer, which HTTP/1.1 replicas cannot send through Kestrel) counts exactly what was billed
/// to the client, from any OpenAI-compatible replica. When <paramref name="hideUsageChunk"/> says so (the endpoint asked
/// for usage the client did not: <see cref="StreamUsage"/>) the stream passes event by event and the usage-only chunk
/// is counted but not sent.
/// </summary>
internal sealed class UsageTap(Stream inner, Func<bool>? hideUsageChunk = null) : Stream
{
    // An event larger than this is passed on unfiltered (a usage chunk is a few hundred bytes).
    private const int MaxPendingBytes = 1 << 20;
    private readonly MemoryStream _pending = new();
    private bool _filtering = true;

    // Large enough for a usage object after the longest final chunk; bounded, so a huge response costs no memory here.
    private const int TailBytes = 16 * 1024;
    private static readonly byte[] UsageName = "\"usage\""u8.ToArray();

    private readonly byte[] _tail = new byte[TailBytes];
    private int _length;

    /// <summary>Prompt + completion tokens of the last <c>usage</c> object in the response, or 0 when there is none.</summary>
    public long Tokens()
    {
        var tail = _tail.AsSpan(0, _length);
        var at = tail.LastIndexOf(UsageName);
        while (at >= 0)
        {
            if (TryRead(tail[(at + UsageName.Length)..], out var tokens))
                return tokens;
            at = tail[..at].LastIndexOf(UsageName);
        }
        return 0;
    }

    // After "usage": an object with prompt_tokens and completion_tokens (total_tokens is their sum and not needed).
    private static bool TryRead(ReadOnlySpan<byte> rest, out long tokens)
    {
        tokens = 0;
        var colon = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (colon < 0 || rest[colon] != (byte)':')
            return false;
        var reader = new Utf8JsonReader(rest[(colon + 1)..], isFinalBlock: false, default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            var found = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                    return false;
                if (name is "prompt_tokens" or "completion_tokens" && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n >= 0)
                {
                    tokens += n;
                    found = true;
                }
                else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    return false;
                }
            }
            return found && reader.TokenType == JsonTokenType.EndObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Keep(buffer.Span);
        if (!Filtering())
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }

        _pending.Write(buffer.Span);
        var events = TakeCompleteEvents();
        if (events.Length > 0)
            await inner.WriteAsync(events, cancellationToken).ConfigureAwait(false);
        if (_pending.Length > MaxPendingBytes)
        {
            // Not an event stream after all: stop filtering and pass everything on.
            _filtering = false;
            await CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends what is held back (an event without its blank line yet); call once the response is complete.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_pending.Length == 0)
            return;
        var rest = _pending.ToArray();
        _pending.SetLength(0);
        await inner.WriteAsync(rest, cancellationToken).ConfigureAwait(false);
    }

    private bool Filtering() => _filtering && hideUsageChunk is not null && hideUsageChunk();

    // The complete events held (each ending in a blank line), usage-only chunks left out; the incomplete rest stays held.
    private ReadOnlyMemory<byte> TakeCompleteEvents()
    {
        var held = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
        var output = new MemoryStream();
        var start = 0;
        while (true)
        {
            var end = held[start..].IndexOf("\n\n"u8);
            if (end < 0)
                break;
            var sse = held.Slice(start, end + 2);
            if (!StreamUsage.IsUsageOnlyEvent(sse))
                output.Write(sse);
            start += end + 2;
        }
        var rest = held[start..].ToArray();
        _pending.SetLength(0);
        _pending.Write(rest);
        return output.GetBuffer().AsMemory(0, (int)output.Length);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (data.Length >= TailBytes)
        {
            data[^TailBytes..].CopyTo(_tail);
            _length = TailBytes;
            return;
        }
        var overflow = _length + data.Length - TailBytes;
        if (overflow > 0)
        {
            _tail.AsSpan(overflow, _length - overflow).CopyTo(_tail);
            _length -= overflow;
        }
        data.CopyTo(_tail.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>The kept tail as text (for tests).</summary>
    internal string TailText() => Encoding.UTF8.GetString(_tail, 0, _length);
}
