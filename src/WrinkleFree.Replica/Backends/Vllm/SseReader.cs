using System.Text;

namespace WrinkleFree.Replica.Backends.Vllm;

/// <summary>Reads the data payloads of a server-sent-events stream, one event at a time, until <c>[DONE]</c> or the end.</summary>
internal sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
    private readonly StringBuilder _data = new();

    /// <summary>True once <c>data: [DONE]</c> was read (as opposed to the stream just ending).</summary>
    public bool Done { get; private set; }

    /// <summary>The next event's data (its data lines joined by newlines), or null at <c>[DONE]</c> or end of stream.</summary>
    public async ValueTask<string?> ReadAsync(CancellationToken cancellationToken)
    {
        if (Done)
        {
            return null;
        }

        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null || line.Length == 0)
            {
                // A blank line ends an event; the end of the stream ends the last one.
                if (_data.Length > 0)
                {
                    var data = _data.ToString();
                    _data.Clear();
                    if (data == "[DONE]")
                    {
                        Done = true;
                        return null;
                    }

                    return data;
                }

                if (line is null)
                {
                    return null;
                }

                continue;
            }

            // Comments (":" keep-alives) and the event/id/retry fields carry nothing for OpenAI streams.
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                if (_data.Length > 0)
                {
                    _data.Append('\n');
                }

                var value = line.AsSpan(5);
                _data.Append(value.StartsWith(' ') ? value[1..] : value);
            }
        }
    }

    public void Dispose() => _reader.Dispose();
}
