namespace WrinkleFree.Inference.Gguf;

/// <summary>ggml tensor type ids as they appear in GGUF tensor infos (upstream numbering plus the bitnet.cpp fork's I2_S).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,

    /// <summary>bitnet.cpp's 2-bit ternary layout; upstream ggml leaves 36 unused, so the id is unambiguous.</summary>
    I2_S = 36,

    /// <summary>Upstream MXFP4. bitnet.cpp numbers its TL2 layout 39 as well; <see cref="GgufFile"/> decides from the file.</summary>
    MXFP4 = 39,

    /// <summary>Upstream's 2-bit ternary type: 64-value blocks of an fp16 scale and codes value + 1 (code 3, +2, is not ternary).</summary>
    Q2_0 = 42,

    /// <summary>ik_llama.cpp's 1.625-bit ternary layout (its ids start at 128, beyond upstream's).</summary>
    IQ1_BN = 134,

    /// <summary>ik_llama.cpp's 2-bit ternary layout.</summary>
    IQ2_BN = 135,
}
