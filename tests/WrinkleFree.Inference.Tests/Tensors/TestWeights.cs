using System.Runtime.InteropServices;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tests.Tensors;

/// <summary>
/// Random weights of a given type, encoded by test-side encoders written from the format description, together with the
/// dense float matrix they stand for.
/// </summary>
internal sealed class TestWeights
{
    private readonly byte[] _bytes;

    private TestWeights(GgmlType type, int rows, int columns, byte[] bytes, float[] dense)
    {
        Type = type;
        Rows = rows;
        Columns = columns;
        _bytes = bytes;
        Dense = dense;
    }

    public GgmlType Type { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Row-major Rows×Columns values the encoded bytes represent.</summary>
    public float[] Dense { get; }

    /// <summary>Address of the encoded bytes (a pinned array, so it stays valid for the test's lifetime).</summary>
    public nint Address => Marshal.UnsafeAddrOfPinnedArrayElement(_bytes, 0);

    public int ByteLength => _bytes.Length;

    public static TestWeights Random(GgmlType type, int rows, int columns, int seed)
    {
        var random = new Random(seed);
        var dense = new float[rows * columns];
        var encoded = new List<byte>();
        switch (type)
        {
            case GgmlType.I2_S:
            {
                var scale = 0.5f + (float)random.NextDouble();
                var trits = RandomTrits(random, rows * columns);
                for (var i = 0; i < dense.Length; i++)
                {
                    dense[i] = trits[i] * scale;
                }

                for (var block = 0; block < dense.Length / 128; block++)
                {
                    for (var j = 0; j < 32; j++)
                    {
                        var v = 0;
                        for (var g = 0; g < 4; g++)
                        {
                            v |= (trits[block * 128 + g * 32 + j] + 1) << (6 - 2 * g);
                        }

                        encoded.Add((byte)v);
                    }
                }

                encoded.AddRange(BitConverter.GetBytes(scale));
                encoded.AddRange(new byte[28]);
                break;
            }

            case GgmlType.TQ2_0:
            case GgmlType.TQ1_0:
            {
                var trits = RandomTrits(random, rows * columns);
                for (var block = 0; block < dense.Length / 256; block++)
                {
                    var d = (Half)(0.25f + (float)random.NextDouble());
                    var t = trits.AsSpan(block * 256, 256);
                    for (var p = 0; p < 256; p++)
                    {
                        dense[block * 256 + p] = t[p] * (float)d;
                    }

                    if (type == GgmlType.TQ2_0)
                    {
                        EncodeTQ2(t, encoded);
                    }
                    else
                    {
                        EncodeTQ1(t, encoded);
                    }

                    encoded.AddRange(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(d)));
                }

                break;
            }

            case GgmlType.Q2_0:
            {
                // Upstream's 64-value blocks: fp16 d, then value j at byte j / 4, bits 2 * (j % 4), as code value + 1.
                // One d per row: what this engine runs Q2_0 as.
                var trits = RandomTrits(random, rows * columns);
                for (var r = 0; r < rows; r++)
                {
                    var d = (Half)(0.25f + (float)random.NextDouble());
                    for (var block = 0; block < columns / 64; block++)
                    {
                        encoded.AddRange(BitConverter.GetBytes(d));
                        var qs = new byte[16];
                        for (var j = 0; j < 64; j++)
                        {
                            var i = r * columns + block * 64 + j;
                            qs[j / 4] |= (byte)((trits[i] + 1) << (2 * (j % 4)));
                            dense[i] = trits[i] * (float)d;
                        }

                        encoded.AddRange(qs);
                    }
                }

                break;
            }

            case GgmlType.IQ2_BN:
            case GgmlType.IQ1_BN:
            {
                // ik_llama.cpp's rows: the row's scale (f32 / fp16), then 64-value blocks.
                var trits = RandomTrits(random, rows * columns);
                for (var r = 0; r < rows; r++)
                {
                    var scale = (float)(Half)(0.25f + (float)random.NextDouble());
                    var t = trits.AsSpan(r * columns, columns);
                    for (var i = 0; i < columns; i++)
                    {
                        dense[r * columns + i] = t[i] * scale;
                    }

                    if (type == GgmlType.IQ2_BN)
                    {
                        encoded.AddRange(BitConverter.GetBytes(scale));
                    }
                    else
                    {
                        encoded.AddRange(BitConverter.GetBytes((Half)scale));
                    }

                    for (var block = 0; block < columns / 64; block++)
                    {
                        var b = t.Slice(block * 64, 64);
                        if (type == GgmlType.IQ2_BN)
                        {
                            // qs[j] = L[j] | L[j+16] << 2 | L[j+32] << 4 | L[j+48] << 6, L = value + 1.
                            for (var j = 0; j < 16; j++)
                            {
                                encoded.Add((byte)((b[j] + 1) | ((b[j + 16] + 1) << 2) | ((b[j + 32] + 1) << 4) | ((b[j + 48] + 1) << 6)));
                            }
                        }
                        else
                        {
                            // Per group of 16: three bytes of five base-3 digits (value 5k + n weighs 3^n), the 16th values
                            // of the four groups in a last byte (group g weighs 3^g), each as ceil(q * 256 / 243).
                            var extra = 0;
                            for (var g = 0; g < 4; g++)
                            {
                                for (var k = 0; k < 3; k++)
                                {
                                    var q = 0;
                                    var weight = 1;
                                    for (var n = 0; n < 5; n++, weight *= 3)
                                    {
                                        q += (b[16 * g + 5 * k + n] + 1) * weight;
                                    }

                                    encoded.Add((byte)((q * 256 + 242) / 243));
                                }

                                extra += (b[16 * g + 15] + 1) * (int)Math.Pow(3, g);
                            }

                            encoded.Add((byte)((extra * 256 + 242) / 243));
                        }
                    }
                }

                break;
            }

            case GgmlType.Q8_0:
                for (var block = 0; block < dense.Length / 32; block++)
                {
                    var d = (Half)(0.001f + 0.01f * (float)random.NextDouble());
                    encoded.AddRange(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(d)));
                    for (var j = 0; j < 32; j++)
                    {
                        var v = (sbyte)random.Next(-127, 128);
                        encoded.Add((byte)v);
                        dense[block * 32 + j] = v * (float)d;
                    }
                }

                break;
            case GgmlType.F32:
                for (var i = 0; i < dense.Length; i++)
                {
                    dense[i] = (float)(random.NextDouble() * 2 - 1);
                    encoded.AddRange(BitConverter.GetBytes(dense[i]));
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < dense.Length; i++)
                {
                    var h = (Half)(float)(random.NextDouble() * 2 - 1);
                    dense[i] = (float)h;
                    encoded.AddRange(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(h)));
                }

                break;
            case GgmlType.BF16:
                for (var i = 0; i < dense.Length; i++)
                {
                    var bits = (ushort)(BitConverter.SingleToInt32Bits((float)(random.NextDouble() * 2 - 1)) >> 16);
                    dense[i] = BitConverter.Int32BitsToSingle(bits << 16);
                    encoded.AddRange(BitConverter.GetBytes(bits));
                }

                break;
            case GgmlType.Q6_K:
                for (var block = 0; block < dense.Length / 256; block++)
                {
                    var raw = new byte[210];
                    random.NextBytes(raw);
                    var d = (Half)0.01f;
                    BitConverter.GetBytes(BitConverter.HalfToUInt16Bits(d)).CopyTo(raw, 208);
                    for (var i = 0; i < 256; i++)
                    {
                        dense[block * 256 + i] = Q6KValue(raw, i);
                    }

                    encoded.AddRange(raw);
                }

                break;
            default:
                throw new NotSupportedException(type.ToString());
        }

        var bytes = GC.AllocateArray<byte>(encoded.Count, pinned: true);
        encoded.CopyTo(bytes);
        return new TestWeights(type, rows, columns, bytes, dense);
    }

    private static sbyte[] RandomTrits(Random random, int n)
    {
        var trits = new sbyte[n];
        for (var i = 0; i < n; i++)
        {
            trits[i] = (sbyte)random.Next(-1, 2);
        }

        return trits;
    }

    private static void EncodeTQ2(ReadOnlySpan<sbyte> t, List<byte> output)
    {
        for (var chunk = 0; chunk < 2; chunk++)
        {
            for (var m = 0; m < 32; m++)
            {
                var v = 0;
                for (var n = 0; n < 4; n++)
                {
                    v |= (t[chunk * 128 + n * 32 + m] + 1) << (2 * n);
                }

                output.Add((byte)v);
            }
        }
    }

    private static void EncodeTQ1(ReadOnlySpan<sbyte> t, List<byte> output)
    {
        // Five base-3 digits per byte, first digit most significant, scaled to a byte by a ceiling division by 243.
        static byte Pack(int value) => (byte)((value * 256 + 242) / 243);
        for (var m = 0; m < 32; m++)
        {
            var q = 0;
            for (var n = 0; n < 5; n++)
            {
                q = q * 3 + t[n * 32 + m] + 1;
            }

            output.Add(Pack(q));
        }

        for (var m = 0; m < 16; m++)
        {
            var q = 0;
            for (var n = 0; n < 5; n++)
            {
                q = q * 3 + t[160 + n * 16 + m] + 1;
            }

            output.Add(Pack(q));
        }

        for (var j = 0; j < 4; j++)
        {
            var q = 0;
            for (var n = 0; n < 4; n++)
            {
                q = q * 3 + t[240 + n * 4 + j] + 1;
            }

            output.Add(Pack(q * 3));
        }
    }

    /// <summary>Value i of a Q6_K block, written from the layout independently of the engine's decoder.</summary>
    private static float Q6KValue(byte[] raw, int i)
    {
        var half = i / 128;
        var j = i % 128;
        var quad = j / 32;
        var l = j % 32;
        var lowByte = raw[half * 64 + l + (quad % 2) * 32];
        var low = quad < 2 ? lowByte & 0xF : lowByte >> 4;
        var high = (raw[128 + half * 32 + l] >> (2 * quad)) & 3;
        var scale = (sbyte)raw[192 + half * 8 + l / 16 + 2 * quad];
        var d = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(raw, 208));
        return d * scale * ((low | (high << 4)) - 32);
    }
}
