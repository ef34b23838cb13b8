namespace WrinkleFree.Inference.Models;

/// <summary>
/// One supported architecture described as data: which optional tensors it has, its defaults for activation and RoPE,
/// and whether the LM head is tied to the token embedding. The forward pass is shared by all of them.
/// </summary>
public sealed record ArchitectureSpec
{
    /// <summary><c>general.architecture</c> value; also the metadata key prefix.</summary>
    public required string Name { get; init; }

    /// <summary>SubLN: RMSNorm on the attention output before wo and on the gated FFN hidden before w2.</summary>
    public bool SubNorms { get; init; }

    /// <summary>Per-head RMSNorm on q and k before RoPE (Qwen3).</summary>
    public bool QkNorm { get; init; }

    /// <summary>The q/k norms are used when the file has them and skipped when it has none (a model distilled from LLaMA).</summary>
    public bool QkNormOptional { get; init; }

    public Activation DefaultActivation { get; init; } = Activation.Silu;

    public RopeStyle Rope { get; init; } = RopeStyle.Normal;

    /// <summary>True when there is never an <c>output</c> tensor (LM head = token_embd).</summary>
    public bool AlwaysTied { get; init; }

    public double DefaultRopeBase { get; init; } = 10000;

    public static readonly ArchitectureSpec Llama = new() { Name = "llama" };

    public static readonly ArchitectureSpec Qwen3 = new() { Name = "qwen3", QkNorm = true, Rope = RopeStyle.NeoX, DefaultRopeBase = 1000000 };

    /// <summary>
    /// llama.cpp's <c>bitnet</c>: sub-norms, optional per-tensor scales, tied head, SiLU unless hidden_act says otherwise,
    /// and NeoX RoPE (llama.cpp converts BitNet checkpoints without the q/k permutation LLaMA GGUFs get; verified against
    /// llama.cpp's logits in the tests).
    /// </summary>
    public static readonly ArchitectureSpec BitNet = new() { Name = "bitnet", SubNorms = true, AlwaysTied = true, Rope = RopeStyle.NeoX };

    /// <summary>bitnet.cpp's naming for BitNet b1.58 2B4T: the bitnet graph with squared ReLU and RoPE theta 500000.</summary>
    public static readonly ArchitectureSpec BitNetB158 = BitNet with
    {
        Name = "bitnet-b1.58", DefaultActivation = Activation.ReluSquared, DefaultRopeBase = 500000,
    };

    /// <summary>
    /// Our training export: Qwen3 (q/k norms, NeoX RoPE, SiLU) with SubLN before o_proj and down_proj and ternary linear layers.
    /// A student distilled from LLaMA has no q/k norms; the file says which (the RoPE is NeoX for both: Hugging Face's
    /// half-split layout, written without llama.cpp's q/k permutation).
    /// </summary>
    public static readonly ArchitectureSpec WrinkleFree = Qwen3 with { Name = "wrinklefree", SubNorms = true, QkNormOptional = true };

    public static IReadOnlyList<ArchitectureSpec> All { get; } = [Llama, Qwen3, BitNet, BitNetB158, WrinkleFree];

    public static ArchitectureSpec Find(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new NotSupportedException(
            $"model architecture '{name}' is not supported; supported: {string.Join(", ", All.Select(a => a.Name))}");
}
