namespace WrinkleFree.Training.Observability;

/// <summary>Where a run's metrics go: a JSONL file (with a .prom file beside it) and/or a Prometheus endpoint.</summary>
public sealed record TrainingMetricsOptions
{
    /// <summary>The JSONL file, appended to (a resumed run repeats the steps since its checkpoint); null for none.</summary>
    public string? JsonlPath { get; init; }

    /// <summary>Port of the /metrics endpoint on 127.0.0.1, or null for none.</summary>
    public int? PrometheusPort { get; init; }

    /// <summary>Host the /metrics endpoint binds to.</summary>
    public string PrometheusHost { get; init; } = "127.0.0.1";

    /// <summary>The .prom file for node_exporter's textfile collector: the JSONL path with extension .prom unless given.</summary>
    public string? PromFilePath { get; init; }

    /// <summary>Clock for timestamps.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
