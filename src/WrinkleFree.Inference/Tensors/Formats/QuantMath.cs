namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>Rounding helpers shared by the codecs, matching the C library calls llama.cpp's reference quantizers use.</summary>
internal static class QuantMath
{
    /// <summary>C's roundf/lroundf: halves round away from zero (.NET's default is to even, which would change codes).</summary>
    public static int RoundAway(float x) => (int)MathF.Round(x, MidpointRounding.AwayFromZero);

    /// <summary>The value <paramref name="x"/> becomes once stored as an fp16 block scale.</summary>
    public static float ToHalfPrecision(float x) => (float)(Half)x;
}
