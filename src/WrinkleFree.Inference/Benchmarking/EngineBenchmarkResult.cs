namespace WrinkleFree.Inference.Benchmarking;

/// <summary>One row of <c>wf bench engine</c>: a model file, a thread count and a concurrency, with the measured rates.</summary>
public sealed record EngineBenchmarkResult
{
    public required string Engine { get; init; }
    public required string Type { get; init; }
    public required int Threads { get; init; }
    public required int Sequences { get; init; }

    /// <summary>Prompt tokens per second (one prompt fed as one batch); null for concurrency rows.</summary>
    public double? PrefillTokensPerSecond { get; init; }

    /// <summary>Aggregate decode tokens per second over all sequences.</summary>
    public required double DecodeTokensPerSecond { get; init; }

    /// <summary>Weight bytes streamed per second while decoding (one pass over the weights per step).</summary>
    public double? EffectiveGBps { get; init; }

    /// <summary>EffectiveGBps over the read bandwidth measured in the same run.</summary>
    public double? RooflineFraction { get; init; }
}

/// <summary>
/// <see cref="EngineBenchmark.Interleaved"/>: medians over decode steps of the step's weight GB/s, of the probe passes
/// around the steps, and of each step's GB/s over its neighbouring probes.
/// </summary>
public sealed record InterleavedRoofline(int Threads, int Steps, double DecodeGBps, double ProbeGBps, double Fraction)
{
    /// <summary>The one-line reading every report prints: "median 62 % of the probe (step …, probe …, N steps)".</summary>
    public string Describe() => $"median {Fraction:P0} of the probe (step {DecodeGBps:F1} GB/s, probe {ProbeGBps:F1} GB/s, {Steps} steps)";
}
