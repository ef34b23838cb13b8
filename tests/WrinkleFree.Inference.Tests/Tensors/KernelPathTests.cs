using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tensors.Kernels.Avx512;

namespace WrinkleFree.Inference.Tests.Tensors;

/// <summary>Every SIMD family this machine supports, called directly, against the scalar reference on odd shapes.</summary>
public sealed unsafe class KernelPathTests
{
    public static TheoryData<GgmlType, int, int, int> Cases()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in new[] { GgmlType.I2_S, GgmlType.TQ2_0, GgmlType.TQ1_0, GgmlType.Q8_0, GgmlType.F32, GgmlType.F16, GgmlType.BF16 })
        {
            foreach (var batch in new[] { 1, 2, 3, 5, 12, 16, 17 })
            {
                data.Add(type, 13, 768, batch);
            }

            // I2_S rows of 128·odd values leave a half chunk after the 256-value loop; 4352 runs past one 16-chunk run.
            data.Add(type, 7, type == GgmlType.I2_S ? 384 : 512, 4);
            data.Add(type, 3, 4352, 5);

            // Decode (batch 1) walks I2_S rows in pairs: an odd last row, a half-chunk tail and several 16-chunk runs.
            data.Add(type, 7, type == GgmlType.I2_S ? 384 : 512, 1);
            data.Add(type, 3, 4352, 1);
        }

        // The batched ternary tile over rows longer than one 16-chunk run: 27 chunks split into two column ranges (6912, the
        // FFN down width), 17 chunks and a half-chunk tail (4480, I2_S), two row blocks with an odd last row, and a token
        // left over after the group of eight.
        data.Add(GgmlType.I2_S, 67, 6912, 9);
        data.Add(GgmlType.I2_S, 67, 4480, 9);
        data.Add(GgmlType.TQ2_0, 67, 6912, 9);
        data.Add(GgmlType.I2_S, 7, 128, 9); // rows shorter than one chunk: one empty range, all values in the tail

        // Several token groups over the same column ranges, tails and row blocks: 16 = 8 + 8 (a 16-sequence step), 25 = 8 + 8
        // + 8 + 1.
        data.Add(GgmlType.I2_S, 67, 6912, 25);
        data.Add(GgmlType.I2_S, 67, 4480, 16);
        data.Add(GgmlType.TQ2_0, 67, 6912, 16);
        data.Add(GgmlType.I2_S, 7, 128, 16);

        // Block counts that leave the paired/unrolled loops a remainder, and float rows that are not a multiple of 16.
        data.Add(GgmlType.Q8_0, 5, 224, 5);
        data.Add(GgmlType.Q8_0, 5, 96, 6);

        // Several groups of eight rows (the interleaved copy), the last one partial, with full and leftover token quads.
        data.Add(GgmlType.Q8_0, 21, 256, 17);
        data.Add(GgmlType.Q8_0, 40, 64, 4);
        data.Add(GgmlType.Q8_0, 48, 320, 9); // two ranges, each a group pair (16 x 4 tiles) and a single group; a leftover token

        // AVX-512 hosts take six-token tiles while ten or more tokens (or exactly six) are left: 16 = 6 + 6 + 4, 11 = 6 + 4
        // + 1, 6 alone.
        data.Add(GgmlType.Q8_0, 48, 320, 16);
        data.Add(GgmlType.Q8_0, 40, 256, 11);
        data.Add(GgmlType.Q8_0, 21, 96, 6);

        // Decode walks Q8_0 rows (groups of eight, interleaved) in pairs from the range's two halves: a partial last group
        // in a pair, an odd group or row left alone, and an odd block count (the tail block of the row kernel).
        data.Add(GgmlType.Q8_0, 29, 256, 1);
        data.Add(GgmlType.Q8_0, 37, 288, 1);
        data.Add(GgmlType.F32, 5, 200, 5);
        data.Add(GgmlType.F16, 5, 200, 5);
        data.Add(GgmlType.BF16, 5, 200, 5);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_EverySupportedIsa_MatchesScalar(GgmlType type, int rows, int columns, int batch)
    {
        var w = TestWeights.Random(type, rows, columns, seed: rows * 31 + columns + batch);
        var x = WeightMatrixTests.RandomBatch(batch, columns, seed: batch);
        var expected = Run(type, w, x, KernelFamily.Scalar);
        var integer = type == GgmlType.I2_S;
        foreach (var family in KernelFamily.Supported)
        {
            var actual = Run(type, w, x, family);
            for (var i = 0; i < expected.Length; i++)
            {
                if (integer)
                {
                    Assert.True(expected[i] == actual[i], $"{family} [{i}]: {actual[i]} != {expected[i]}");
                }
                else
                {
                    var tolerance = 2e-5f * MathF.Max(1f, MathF.Abs(expected[i])) * MathF.Sqrt(columns);
                    Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance, $"{family} [{i}]: {actual[i]} vs {expected[i]}");
                }
            }
        }
    }

    /// <summary>
    /// The interleaved Q8_0 kernel finishes its 16-row tiles with 512-bit operations from eight tokens up and with 256-bit
    /// ones below, and on AVX-512 hosts runs six-token tiles from six tokens up: the same conversion, product and FMA per
    /// lane, so a token's outputs must not depend on which tile ran.
    /// </summary>
    [Theory]
    [InlineData(6)]
    [InlineData(8)]
    [InlineData(16)]
    public void Q8Interleaved_WideAndNarrowEpilogues_GiveTheSameBits(int tokens)
    {
        var w = TestWeights.Random(GgmlType.Q8_0, 48, 320, seed: 11);
        var wideBatch = WeightMatrixTests.RandomBatch(tokens, 320, seed: 12);
        var four = new ActivationBatch(4, 320) { Batch = 4 };
        wideBatch.Data[..(4 * 320)].CopyTo(four.Data);
        four.MarkDirty();
        foreach (var family in KernelFamily.Supported)
        {
            var wide = Run(GgmlType.Q8_0, w, wideBatch, family);
            var narrow = Run(GgmlType.Q8_0, w, four, family);
            for (var i = 0; i < narrow.Length; i++)
            {
                Assert.True(
                    BitConverter.SingleToInt32Bits(narrow[i]) == BitConverter.SingleToInt32Bits(wide[i]),
                    $"{family} [{i}]: {wide[i]} with {tokens} tokens, {narrow[i]} with four");
            }
        }
    }

    private static float[] Run(GgmlType type, TestWeights w, ActivationBatch x, KernelFamily family)
    {
        var y = new float[x.Batch * w.Rows];
        fixed (float* py = y)
        {
            if (type is GgmlType.I2_S or GgmlType.TQ2_0 or GgmlType.TQ1_0)
            {
                var scale = type == GgmlType.I2_S ? *(float*)(w.Address + (long)w.Rows * w.Columns / 4) : 1f;
                var args = TernaryArgs.For((byte*)w.Address, w.Rows, w.Columns, scale, x.GetInt8(), x.Batch, py);
                var kernel = family.Ternary(type);
                // Two ranges, as the pool would split them.
                kernel(in args, 0, w.Rows / 2);
                kernel(in args, w.Rows / 2, w.Rows);
            }
            else
            {
                var q8 = x.GetQ8();
                var args = new DenseArgs
                {
                    Weights = (byte*)w.Address, Rows = w.Rows, Columns = w.Columns, Batch = x.Batch, X = XPointer(x),
                    Q8 = q8.Q.Pointer, Q8Scale = q8.Scale.Pointer, Q8Stride = q8.Stride, Q8Blocks = q8.Blocks, Q8Sums = q8.Sums.Pointer, Y = py,
                };

                // Q8_0 kernels read the load-time copy of their layout, as DenseMatrix hands it to them; the interleaved
                // kernel's items are groups of eight rows.
                var layout = type == GgmlType.Q8_0 ? family.Q8Layout : Q8Layout.Blocks;
                RunDense(family.Dense(type), args, w, layout);
                if (type == GgmlType.Q8_0)
                {
                    // The family's other Q8_0 kernels too: the block kernel (what a lookup-only matrix that is multiplied
                    // after all uses) and, on AVX-512, the vpmaddubsw kernel that hosts without AVX-VNNI run on the
                    // interleaved copy.
                    var others = new List<(string Name, nint Kernel, Q8Layout Layout)> { ("blocks", (nint)family.Q8(Q8Layout.Blocks), Q8Layout.Blocks) };
                    if (family.Isa == KernelIsa.Avx512)
                    {
                        others.Add(("interleaved vpmaddubsw", (nint)family.Q8(Q8Layout.Interleaved, vnni: false), Q8Layout.Interleaved));
                    }

                    foreach (var (name, kernel, other) in others)
                    {
                        if (other == Q8Layout.Blocks && layout == Q8Layout.Blocks)
                        {
                            continue;
                        }

                        var alternative = new float[y.Length];
                        fixed (float* pb = alternative)
                        {
                            RunDense((delegate*<in DenseArgs, int, int, void>)kernel, args with { Y = pb }, w, other);
                        }

                        for (var i = 0; i < y.Length; i++)
                        {
                            Assert.True(MathF.Abs(alternative[i] - y[i]) <= 2e-5f * MathF.Max(1f, MathF.Abs(y[i])) * MathF.Sqrt(w.Columns), $"{family} {name} [{i}]: {alternative[i]} vs {y[i]}");
                        }
                    }
                }
            }
        }

        return y;
    }

    private static void RunDense(delegate*<in DenseArgs, int, int, void> kernel, DenseArgs args, TestWeights w, Q8Layout layout)
    {
        using var copy = Q8Interleaved.For(layout, (byte*)w.Address, w.Rows, w.Columns);
        copy?.Apply(ref args);
        var items = copy?.Groups ?? w.Rows;

        // Two ranges, as the pool would split them.
        kernel(in args, 0, items / 2);
        kernel(in args, items / 2, items);
    }

    private static float* XPointer(ActivationBatch x)
    {
        fixed (float* p = x.Data)
        {
            // The batch's storage is pinned for its lifetime, so the address stays valid after the fixed block.
            return p;
        }
    }

    [Fact]
    public void F16Kernels_SubnormalsZerosAndExtremes_ConvertExactly()
    {
        const int columns = 32;
        var values = new Half[columns];
        var specials = new[] { Half.Epsilon, -Half.Epsilon, (Half)0f, Half.NegativeZero, Half.MaxValue, Half.MinValue, (Half)6.1035156e-05f, (Half)(-3.5f) };
        for (var i = 0; i < columns; i++)
        {
            values[i] = i < specials.Length ? specials[i] : (Half)(i * 0.37f - 5f);
        }

        var bytes = GC.AllocateArray<byte>(columns * 2, pinned: true);
        for (var i = 0; i < columns; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), BitConverter.HalfToUInt16Bits(values[i]));
        }

        // One-hot activation rows select one weight each, so y must equal the converted weight exactly; magnitudes are
        // compared because the zero products summed with it may turn -0 into +0.
        var x = new ActivationBatch(columns, columns);
        x.Data.Clear();
        for (var b = 0; b < columns; b++)
        {
            x.Row(b)[b] = 1f;
        }

        x.MarkDirty();
        fixed (byte* w = bytes)
        {
            foreach (var family in KernelFamily.Supported)
            {
                var y = new float[columns];
                fixed (float* py = y)
                {
                    var args = new DenseArgs { Weights = w, Rows = 1, Columns = columns, Batch = columns, X = XPointer(x), Y = py };
                    family.Dense(GgmlType.F16)(in args, 0, 1);
                }

                for (var i = 0; i < columns; i++)
                {
                    Assert.Equal(Math.Abs((float)values[i]), Math.Abs(y[i]));
                }
            }
        }
    }

    [Fact]
    public void Q6KDecodeAvx512_RandomBlocks_MatchesScalarDecoder()
    {
        if (!KernelFamily.IsSupported(KernelIsa.Avx512))
        {
            return;
        }

        var w = TestWeights.Random(GgmlType.Q6_K, 3, 768, seed: 9);
        var expected = new float[768];
        var actual = new float[768];
        for (var r = 0; r < 3; r++)
        {
            var row = (byte*)w.Address + r * 3 * 210;
            BlockDecoders.DecodeRow(GgmlType.Q6_K, row, 768, 1f, expected);
            fixed (float* p = actual)
            {
                Q6KAvx512.DecodeRow(row, 3, p);
            }

            Assert.Equal(expected, actual);
        }
    }
}
