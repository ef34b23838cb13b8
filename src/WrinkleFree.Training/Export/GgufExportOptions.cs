using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Training.Export;

/// <summary>How <see cref="GgufExporter"/> stores tensors.</summary>
public sealed record GgufExportOptions
{
    /// <summary>Ternary linear layers: I2_S or TQ2_0. Ignored for full-precision models.</summary>
    public GgmlType TernaryType { get; init; } = GgmlType.I2_S;

    /// <summary>Token embeddings (and an untied LM head): Q8_0, F16 or F32.</summary>
    public GgmlType EmbeddingType { get; init; } = GgmlType.Q8_0;

    /// <summary>Linear layers of a full-precision model (the teacher): F16 or F32.</summary>
    public GgmlType FullPrecisionType { get; init; } = GgmlType.F16;

    /// <summary><c>general.name</c>; the output file name when null.</summary>
    public string? Name { get; init; }
}
