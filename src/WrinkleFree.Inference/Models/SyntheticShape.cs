namespace WrinkleFree.Inference.Models;

/// <summary>Dimensions of a synthetic model (<c>wf model synth --shape</c>).</summary>
public sealed record SyntheticShape(
    string Name, int Dim, int Layers, int Heads, int KvHeads, int FfnDim, int VocabSize, int ContextLength, Activation Activation)
{
    /// <summary>Test-sized: loads and runs in milliseconds, still exercises GQA, sub-norms and 256-value blocks.</summary>
    public static readonly SyntheticShape Tiny = new("tiny", 256, 2, 4, 2, 512, 1024, 512, Activation.Silu);

    /// <summary>BitNet b1.58 large (700M) proportions.</summary>
    public static readonly SyntheticShape Large700M = new("700m", 1536, 24, 16, 16, 4096, 32000, 2048, Activation.Silu);

    /// <summary>BitNet b1.58 2B4T: 30 layers, hidden 2560, FFN 6912, 20/5 heads, vocab 128256, squared ReLU.</summary>
    public static readonly SyntheticShape B2B4T = new("2b4t", 2560, 30, 20, 5, 6912, 128256, 4096, Activation.ReluSquared);

    public static IReadOnlyList<SyntheticShape> All { get; } = [Tiny, Large700M, B2B4T];

    public int HeadDim => Dim / Heads;

    public static SyntheticShape Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown shape '{name}'; choose one of: {string.Join(", ", All.Select(s => s.Name))}", nameof(name));
}
