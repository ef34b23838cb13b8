using System.Buffers.Binary;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tensors.Formats;

/// <summary>
/// Writes and reads the same ternary weights (trits in {−1, 0, 1} times one scale) as I2_S, TQ2_0, TQ1_0 or Q2_0.
/// <see cref="Encode"/> rounds the scale to fp16 for all three formats, because TQ blocks store d as fp16: decoding any
/// of the three encodings then yields exactly trit · scale, bit for bit the same floats.
/// </summary>
public static class TernaryEncoding
{
    /// <summary>
    /// Encodes a whole tensor of <paramref name="trits"/> (row-major) with one <paramref name="scale"/>, rounded to fp16.
    /// Returns exactly GgmlTypeInfo.ByteSize bytes (for I2_S: packed codes plus the 32-byte trailer holding the scale as f32).
    /// </summary>
    public static byte[] Encode(GgmlType type, ReadOnlySpan<sbyte> trits, float scale)
    {
        var info = Geometry(type);
        if (trits.Length % info.BlockSize != 0)
        {
            throw new ArgumentException($"{trits.Length} values are not whole {type} blocks of {info.BlockSize}", nameof(trits));
        }

        for (var i = 0; i < trits.Length; i++)
        {
            if (trits[i] is < -1 or > 1)
            {
                throw new ArgumentException($"value {i} is {trits[i]}, not a trit in {{-1, 0, 1}}", nameof(trits));
            }
        }

        var d = (Half)scale;
        if (!Half.IsFinite(d))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be finite in fp16 (|scale| <= 65504)");
        }

        var result = new byte[info.ByteSize(trits.Length)];
        switch (type)
        {
            case GgmlType.I2_S:
                I2SLayout.Pack(trits, result);
                BinaryPrimitives.WriteSingleLittleEndian(result.AsSpan(trits.Length / 4), (float)d);
                break;
            case GgmlType.TQ2_0:
                PackBlocks(trits, d, result, Tq2Layout.Bytes, Tq2Layout.Pack);
                break;
            case GgmlType.Q2_0:
                PackBlocks(trits, d, result, Q20Layout.Bytes, Q20Layout.Pack, Q20Layout.Values);
                break;
            default:
                PackBlocks(trits, d, result, Tq1Layout.Bytes, Tq1Layout.Pack);
                break;
        }

        return result;
    }

    /// <summary>
    /// <see cref="Encode(GgmlType, ReadOnlySpan{sbyte}, float)"/> for a tensor in rows of <paramref name="rowLength"/>
    /// values, which ik_llama.cpp's IQ1_BN and IQ2_BN need (each row carries the scale; rounded to fp16 as for the others,
    /// so every format decodes to the same floats).
    /// </summary>
    public static byte[] Encode(GgmlType type, ReadOnlySpan<sbyte> trits, float scale, int rowLength)
    {
        if (!IqBnLayout.Applies(type))
        {
            return Encode(type, trits, scale);
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowLength);
        if (trits.Length % rowLength != 0 || rowLength % IqBnLayout.BlockValues != 0)
        {
            throw new ArgumentException($"{trits.Length} values are not whole {type} rows of {rowLength} (a multiple of {IqBnLayout.BlockValues})", nameof(rowLength));
        }

        var d = (Half)scale;
        if (!Half.IsFinite(d))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be finite in fp16 (|scale| <= 65504)");
        }

        var rowBytes = checked((int)GgmlTypeInfo.Of(type)!.Value.RowBytes(rowLength));
        var result = new byte[(long)trits.Length / rowLength * rowBytes];
        for (var r = 0; r < trits.Length / rowLength; r++)
        {
            var row = trits.Slice(r * rowLength, rowLength);
            foreach (var t in row)
            {
                if (t is < -1 or > 1)
                {
                    throw new ArgumentException($"a value of row {r} is {t}, not a trit in {{-1, 0, 1}}", nameof(trits));
                }
            }

            IqBnLayout.EncodeRow(type, row, (float)d, result.AsSpan(r * rowBytes, rowBytes));
        }

        return result;
    }

    /// <summary>
    /// Reads the trits and the single scale of an <paramref name="elements"/>-value ternary tensor. TQ blocks must all share
    /// one d, except all-zero blocks (d = 0), whose trits are returned as 0; throws ArgumentException otherwise.
    /// </summary>
    public static sbyte[] DecodeTrits(GgmlType type, ReadOnlySpan<byte> data, long elements, out float scale)
    {
        var info = Geometry(type);
        if (elements < 0 || elements > Array.MaxLength || elements % info.BlockSize != 0)
        {
            throw new ArgumentException($"{elements} values are not whole {type} blocks of {info.BlockSize}", nameof(elements));
        }

        if (data.Length != info.ByteSize(elements))
        {
            throw new ArgumentException($"{elements} values of {type} take {info.ByteSize(elements)} bytes, got {data.Length}", nameof(data));
        }

        var trits = new sbyte[elements];
        if (type == GgmlType.I2_S)
        {
            I2SLayout.Unpack(data[..(trits.Length / 4)], trits);
            scale = BinaryPrimitives.ReadSingleLittleEndian(data[(trits.Length / 4)..]);
        }
        else
        {
            var blockBytes = info.BlockBytes;
            Half? shared = null;
            var blockValues = info.BlockSize;
            for (var b = 0; b < trits.Length / blockValues; b++)
            {
                var block = data.Slice(b * blockBytes, blockBytes);
                var values = trits.AsSpan(b * blockValues, blockValues);
                var d = type switch
                {
                    GgmlType.TQ2_0 => Tq2Layout.Unpack(block, values),
                    GgmlType.Q2_0 => Q20Layout.Unpack(block, values),
                    _ => Tq1Layout.Unpack(block, values),
                };
                if (d == Half.Zero)
                {
                    // A zero block scale dequantizes to zeros whatever the codes say.
                    values.Clear();
                }
                else if (shared is null)
                {
                    shared = d;
                }
                else if (!shared.Value.Equals(d))
                {
                    throw new ArgumentException(
                        $"{type} block {b} has scale {(float)d} but earlier blocks have {(float)shared.Value}; the tensor is not single-scale ternary",
                        nameof(data));
                }
            }

            scale = shared is { } s ? (float)s : 0f;
        }

        var bad = trits.AsSpan().IndexOf((sbyte)2);
        if (bad >= 0)
        {
            throw new ArgumentException($"{type} value {bad} has code 3, which is not a ternary value", nameof(data));
        }

        return trits;
    }

    private static GgmlTypeInfo Geometry(GgmlType type) => type is GgmlType.I2_S or GgmlType.TQ2_0 or GgmlType.TQ1_0 or GgmlType.Q2_0
        ? GgmlTypeInfo.Of(type)!.Value
        : throw new ArgumentException($"{type} is not a ternary format; expected I2_S, TQ2_0, TQ1_0 or Q2_0", nameof(type));

    private delegate void PackBlock(ReadOnlySpan<sbyte> trits, Half d, Span<byte> block);

    private static void PackBlocks(ReadOnlySpan<sbyte> trits, Half d, Span<byte> result, int blockBytes, PackBlock pack, int blockValues = 256)
    {
        for (var b = 0; b < trits.Length / blockValues; b++)
        {
            pack(trits.Slice(b * blockValues, blockValues), d, result.Slice(b * blockBytes, blockBytes));
        }
    }
}
