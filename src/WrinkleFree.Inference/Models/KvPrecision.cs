namespace WrinkleFree.Inference.Models;

/// <summary>How the KV cache stores keys and values (llama.cpp's <c>--cache-type-k/-v</c> f16 and f32).</summary>
public enum KvPrecision
{
    /// <summary>IEEE half, two bytes a value (the default, as llama.cpp's).</summary>
    F16,

    /// <summary>float32, four bytes a value: the projections' values unrounded, for comparisons that need them exact.</summary>
    F32,
}
