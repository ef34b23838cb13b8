namespace WrinkleFree.FakeUpstream;

/// <summary>Which optional parts of the OpenAI-compatible surface the fake serves.</summary>
public sealed record FakeUpstreamOptions
{
    public string ModelId { get; init; } = "fake-model";

    /// <summary>Serve vLLM's /tokenize and /detokenize (off: they answer 404, as a plain OpenAI server would).</summary>
    public bool Tokenize { get; init; } = true;

    /// <summary>Send the stream_options.include_usage chunk when asked (off: an upstream that ignores the option).</summary>
    public bool Usage { get; init; } = true;

    /// <summary>A median time to first token for /health to report as <c>ttft_p50_ms</c>, as `wf replica` does (null: none).</summary>
    public double? TtftP50Ms { get; init; }

    /// <summary>The address to listen on: loopback, or another when a test runs the fake inside a network namespace.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Parses <c>--port N</c>, <c>--model ID</c>, <c>--no-tokenize</c>, <c>--no-usage</c>, <c>--ttft-ms MS</c> and <c>--host ADDRESS</c>.</summary>
    public static (FakeUpstreamOptions Options, int Port) Parse(string[] args)
    {
        var options = new FakeUpstreamOptions();
        var port = 0;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port":
                    port = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--host":
                    options = options with { Host = args[++i] };
                    break;
                case "--model":
                    options = options with { ModelId = args[++i] };
                    break;
                case "--no-tokenize":
                    options = options with { Tokenize = false };
                    break;
                case "--no-usage":
                    options = options with { Usage = false };
                    break;
                case "--ttft-ms":
                    options = options with { TtftP50Ms = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture) };
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }

        return (options, port);
    }
}
