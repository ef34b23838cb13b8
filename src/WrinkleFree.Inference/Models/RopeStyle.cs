namespace WrinkleFree.Inference.Models;

/// <summary>How rotary embeddings pair dimensions: adjacent pairs (ggml NORM, LLaMA GGUFs) or split halves (NEOX, Qwen).</summary>
public enum RopeStyle
{
    Normal,
    NeoX,
}
