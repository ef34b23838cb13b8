using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Load-time repack of TQ2_0 into the I2_S row layout plus one scale per row, so TQ2_0 files use the aligned I2_S GEMV and
/// GEMM kernels (66-byte blocks straddle cache lines and carry a scale per 256 values). It applies when every block of a
/// row has the same scale, which is what quantizing a BitNet model (one scale per tensor) produces; blocks whose trits
/// are all zero do not constrain the scale.
/// </summary>
internal static unsafe class TernaryRepack
{
    // A TQ2_0 qs byte with four zero trits (code 1 in each 2-bit field).
    private const byte ZeroTrits = 0x55;

    /// <summary>
    /// Writes each row's common block scale to <paramref name="rowScales"/>; false (and nothing usable) when some row's
    /// non-zero blocks disagree.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryUniformRowScales(byte* tq2, int rows, int columns, float* rowScales)
    {
        var blocks = columns / 256;
        for (var r = 0; r < rows; r++)
        {
            var row = tq2 + (long)r * blocks * BlockDecoders.TQ2BlockBytes;
            ushort? common = null;
            for (var k = 0; k < blocks; k++)
            {
                var block = row + k * BlockDecoders.TQ2BlockBytes;
                if (AllZero(block))
                {
                    continue;
                }

                var bits = (ushort)(block[64] | (block[65] << 8));
                if (common is { } c && c != bits)
                {
                    return false;
                }

                common = bits;
            }

            rowScales[r] = common is { } h ? (float)BitConverter.UInt16BitsToHalf(h) : 0f;
        }

        return true;
    }

    /// <summary>Copies the codes of every TQ2_0 block into I2_S order (the four 2-bit fields of each byte reversed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToI2S(byte* tq2, int rows, int columns, byte* i2s)
    {
        var blocks = (long)rows * (columns / 256);
        for (long k = 0; k < blocks; k++)
        {
            var source = tq2 + k * BlockDecoders.TQ2BlockBytes;
            var destination = i2s + k * 64;
            if (Vector512.IsHardwareAccelerated)
            {
                Reverse(Vector512.Load(source)).Store(destination);
            }
            else
            {
                for (var j = 0; j < 64; j++)
                {
                    destination[j] = ReverseFields(source[j]);
                }
            }
        }
    }

    /// <summary>The scalar reference: TQ2_0 keeps value m + 32n of a 128-chunk at bit 2n, I2_S at bit 6 − 2n.</summary>
    public static byte ReverseFields(byte b) =>
        (byte)(((b & 0x03) << 6) | ((b & 0x0c) << 2) | ((b & 0x30) >> 2) | ((b & 0xc0) >> 6));

    private static Vector512<byte> Reverse(Vector512<byte> v) =>
        ((v & Vector512.Create((byte)0x03)) << 6) | ((v & Vector512.Create((byte)0x0c)) << 2)
        | ((v & Vector512.Create((byte)0x30)) >> 2) | ((v & Vector512.Create((byte)0xc0)) >> 6);

    private static bool AllZero(byte* block) => Vector512.EqualsAll(Vector512.Load(block), Vector512.Create(ZeroTrits));

    /// <summary>
    /// Repacks TQ1_0 (five trits per byte in base 3, 54-byte blocks) into I2_S rows with one scale per row, so TQ1_0 files
    /// run on the I2_S GEMV and GEMM instead of decoding every row's digits at every multiply (6 to 8 times slower per
    /// weight, measured in the kernels bench). Every non-zero block of a row must share its d; false (nothing usable
    /// written) when some row's blocks disagree. The copy is 2 bits a weight against the file's 1.69.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool FromTq1(byte* data, int rows, int columns, byte* i2s, float* rowScales)
    {
        var blocks = columns / Formats.Tq1Layout.Values;
        var (source, destination, scales) = ((nint)data, (nint)i2s, (nint)rowScales);
        var uniform = 1;
        Parallel.For(0, rows, () => new byte[columns], (r, state, codes) =>
        {
            ushort? common = null;
            fixed (byte* c = codes)
            {
                for (var k = 0; k < blocks; k++)
                {
                    var block = (byte*)source + ((long)r * blocks + k) * Formats.Tq1Layout.Bytes;
                    var blockCodes = c + k * Formats.Tq1Layout.Values;
                    Tq1Codes(block, blockCodes);
                    if (!new ReadOnlySpan<byte>(blockCodes, Formats.Tq1Layout.Values).ContainsAnyExcept((byte)1))
                    {
                        continue;
                    }

                    var bits = (ushort)(block[52] | (block[53] << 8));
                    if (common is { } d && d != bits)
                    {
                        Volatile.Write(ref uniform, 0);
                        state.Stop();
                        return codes;
                    }

                    common = bits;
                }

                ((float*)scales)[r] = common is { } h ? (float)BitConverter.UInt16BitsToHalf(h) : 0f;
                PackCodes(c, columns, (byte*)destination + (long)r * (columns / 4));
            }

            return codes;
        }, _ => { });
        return uniform == 1;
    }

    /// <summary>The 256 codes (0..2, natural order) of one TQ1_0 block: the AVX-512 digit extraction, else the scalar reference.</summary>
    private static void Tq1Codes(byte* block, byte* codes)
    {
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported)
        {
            Kernels.Avx512.TernaryAvx512.TQ1Codes(block, codes);
            return;
        }

        Span<sbyte> trits = stackalloc sbyte[Formats.Tq1Layout.Values];
        Formats.Tq1Layout.Unpack(new ReadOnlySpan<byte>(block, Formats.Tq1Layout.Bytes), trits);
        for (var v = 0; v < trits.Length; v++)
        {
            codes[v] = (byte)(trits[v] + 1);
        }
    }

    /// <summary>
    /// Natural-order codes into I2_S bytes: byte m of each 128-value chunk holds values m, m + 32, m + 64 and m + 96 at bits
    /// 6, 4, 2 and 0 (the layout <see cref="Formats.I2SLayout.Pack"/> writes, 32 bytes at a time).
    /// </summary>
    private static void PackCodes(byte* codes, int columns, byte* packed)
    {
        for (var chunk = 0; chunk < columns / 128; chunk++)
        {
            var c = codes + chunk * 128;
            var v = (Vector256.Load(c) << 6) | (Vector256.Load(c + 32) << 4) | (Vector256.Load(c + 64) << 2) | Vector256.Load(c + 96);
            v.Store(packed + chunk * 32);
        }
    }

    /// <summary>
    /// Repacks IQ1_BN or IQ2_BN rows (ik_llama.cpp's layouts, a scale at the start of each row) into I2_S rows and one
    /// scale per row, so they run on the I2_S kernels; rows are decoded through the scalar reference, in parallel.
    /// </summary>
    public static void FromIqBn(GgmlType type, byte* data, int rows, int columns, byte* i2s, float* rowScales)
    {
        var rowBytes = GgmlTypeInfo.Of(type)!.Value.RowBytes(columns);
        var (source, destination, scales) = ((nint)data, (nint)i2s, (nint)rowScales);
        Parallel.For(0, rows, () => new sbyte[columns], (r, _, trits) =>
        {
            var row = new ReadOnlySpan<byte>((byte*)source + r * rowBytes, checked((int)rowBytes));
            ((float*)scales)[r] = Formats.IqBnLayout.DecodeRow(type, row, trits);
            Formats.I2SLayout.Pack(trits, new Span<byte>((byte*)destination + (long)r * (columns / 4), columns / 4));
            return trits;
        }, _ => { });
    }

    /// <summary>
    /// Repacks upstream Q2_0 into I2_S rows with one scale per row: every non-zero block of a row must share its d (a
    /// BitNet model quantized with one scale per tensor) and hold only ternary codes. Returns null when it can, else why not.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string? FromQ20(byte* data, int rows, int columns, byte* i2s, float* rowScales)
    {
        var blocks = columns / Formats.Q20Layout.Values;
        var (source, destination, scales) = ((nint)data, (nint)i2s, (nint)rowScales);
        string? problem = null;
        Parallel.For(0, rows, () => new sbyte[columns], (r, state, trits) =>
        {
            Half? common = null;
            for (var k = 0; k < blocks; k++)
            {
                var block = new ReadOnlySpan<byte>((byte*)source + ((long)r * blocks + k) * Formats.Q20Layout.Bytes, Formats.Q20Layout.Bytes);
                var values = trits.AsSpan(k * Formats.Q20Layout.Values, Formats.Q20Layout.Values);
                var d = Formats.Q20Layout.Unpack(block, values);
                if (values.Contains((sbyte)2))
                {
                    Interlocked.CompareExchange(ref problem, $"row {r} block {k} holds code 3 (+2·d): the tensor is not ternary", null);
                    state.Stop();
                    return trits;
                }

                if (d == Half.Zero || !values.ContainsAnyExcept((sbyte)0))
                {
                    values.Clear();
                    continue;
                }

                if (common is { } c && !c.Equals(d))
                {
                    Interlocked.CompareExchange(ref problem, $"row {r} has blocks with scales {(float)c} and {(float)d}: one scale per row is needed", null);
                    state.Stop();
                    return trits;
                }

                common = d;
            }

            ((float*)scales)[r] = common is { } h ? (float)h : 0f;
            Formats.I2SLayout.Pack(trits, new Span<byte>((byte*)destination + (long)r * (columns / 4), columns / 4));
            return trits;
        }, _ => { });
        return problem;
    }

    /// <summary>Whether <paramref name="type"/> is one this class repacks.</summary>
    public static bool Applies(GgmlType type) => type == GgmlType.TQ2_0;
}
