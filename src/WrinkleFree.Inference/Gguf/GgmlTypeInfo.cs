namespace WrinkleFree.Inference.Gguf;

/// <summary>Block geometry of a ggml type: how many values a block holds and how many bytes it takes.</summary>
public readonly record struct GgmlTypeInfo(GgmlType Type, int BlockSize, int BlockBytes)
{
    /// <summary>Geometry of <paramref name="type"/>, or null when the type is unknown to this engine.</summary>
    public static GgmlTypeInfo? Of(GgmlType type) => type switch
    {
        GgmlType.F32 => new(type, 1, 4),
        GgmlType.F16 => new(type, 1, 2),
        GgmlType.BF16 => new(type, 1, 2),
        GgmlType.F64 => new(type, 1, 8),
        GgmlType.I8 => new(type, 1, 1),
        GgmlType.I16 => new(type, 1, 2),
        GgmlType.I32 => new(type, 1, 4),
        GgmlType.I64 => new(type, 1, 8),
        GgmlType.Q4_0 => new(type, 32, 18),
        GgmlType.Q4_1 => new(type, 32, 20),
        GgmlType.Q5_0 => new(type, 32, 22),
        GgmlType.Q5_1 => new(type, 32, 24),
        GgmlType.Q8_0 => new(type, 32, 34),
        GgmlType.Q8_1 => new(type, 32, 36),
        GgmlType.Q2_K => new(type, 256, 84),
        GgmlType.Q3_K => new(type, 256, 110),
        GgmlType.Q4_K => new(type, 256, 144),
        GgmlType.Q5_K => new(type, 256, 176),
        GgmlType.Q6_K => new(type, 256, 210),
        GgmlType.Q8_K => new(type, 256, 292),
        GgmlType.TQ1_0 => new(type, 256, 54),
        GgmlType.TQ2_0 => new(type, 256, 66),
        // I2_S packs 4 values per byte in 128-value blocks; the per-tensor f32 scale trailer is added by ByteSize.
        GgmlType.I2_S => new(type, 128, 32),
        GgmlType.MXFP4 => new(type, 32, 17),
        GgmlType.Q2_0 => new(type, 64, 18),
        // ik_llama.cpp's ternary types: 64-value blocks after a per-row scale (fp16 for IQ1_BN, f32 for IQ2_BN).
        GgmlType.IQ1_BN => new(type, 64, 13),
        GgmlType.IQ2_BN => new(type, 64, 16),
        _ => null,
    };

    /// <summary>Bytes each row starts with before its blocks (ik_llama.cpp's "row meta": the row's scale), else 0.</summary>
    public int RowMetaBytes => Type switch
    {
        GgmlType.IQ1_BN => 2,
        GgmlType.IQ2_BN => 4,
        _ => 0,
    };

    /// <summary>
    /// Bytes a tensor of <paramref name="elements"/> values in rows of <paramref name="rowLength"/> occupies, or -1 when
    /// a row is not whole blocks.
    /// </summary>
    public long ByteSize(long elements, long rowLength)
    {
        if (RowMetaBytes == 0)
        {
            return ByteSize(elements);
        }

        if (elements < 0 || rowLength <= 0 || rowLength % BlockSize != 0 || elements % rowLength != 0)
        {
            return -1;
        }

        return elements / rowLength * RowBytes(rowLength);
    }

    /// <summary>
    /// Bytes a tensor of <paramref name="elements"/> values occupies, or -1 when the count is not whole blocks (or the type
    /// has per-row scales: then the row length is needed, see <see cref="ByteSize(long, long)"/>).
    /// </summary>
    public long ByteSize(long elements)
    {
        if (elements < 0 || elements % BlockSize != 0 || RowMetaBytes != 0)
        {
            return -1;
        }

        var bytes = elements / BlockSize * BlockBytes;
        // bitnet.cpp stores one f32 scale after the packed codes and pads the trailer to 32 bytes.
        return Type == GgmlType.I2_S ? bytes + 32 : bytes;
    }

    /// <summary>Bytes one row of <paramref name="rowLength"/> values takes (I2_S rows exclude the tensor trailer; IQ*_BN rows include their scale).</summary>
    public long RowBytes(long rowLength) => RowMetaBytes + rowLength / BlockSize * BlockBytes;
}
