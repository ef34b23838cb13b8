using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using WrinkleFree.Inference.Native;
using WrinkleFree.Inference.Tensors.Kernels;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// Load-time copy of a Q8_0 tensor, on transparent huge pages, that every SIMD family's Q8_0 kernel reads: vpdpbusd
/// (<see cref="Kernels.Avx2.Q8Vnni8"/>), or vpmaddubsw on AVX-512 (<see cref="Kernels.Avx512.Q8Interleaved512"/>) and
/// AVX2 (<see cref="Kernels.Avx2.Q8Interleaved256"/>): rows in groups of eight,
/// each 32-value block of a group stored as eight 32-byte chunks whose 4-byte lane r holds four consecutive values of
/// row r. One vpdpbusd of a chunk against four activation bytes broadcast to every lane then adds into eight rows' int32
/// sums at once, so a block's sum needs no horizontal reduction and each weight is multiplied exactly once.
/// </summary>
/// <remarks>
/// vpdpbusd multiplies unsigned by signed bytes, so the values are stored with their sign bit flipped (w + 128 as a byte);
/// the excess 128·Σq of a block is taken off by starting its sum at −128·Σq, which the activations carry
/// (<see cref="Q8Activations.Sums"/>). The integer sums are therefore exactly Σ w·q, as in the scalar reference. Each
/// block's eight float scales follow its 256 values (<see cref="BlockBytes"/>, 36 bytes per 32 values), so a GEMV reads
/// one stream: with the scales in an array of their own, the 2B4T head's decode
/// GEMV took 12-63 % longer in 8 of 9 paired kernels-bench runs (docs/benchmarks.md). The row count is padded to a multiple of eight with zero weights
/// and zero scales; only real rows are written out.
/// </remarks>
internal sealed unsafe class Q8Interleaved : IDisposable
{
    public const int GroupRows = 8;

    /// <summary>Where a group's block keeps its eight rows' float scales: after its 256 bytes of values.</summary>
    public const int ScaleOffset = 256;

    /// <summary>A group's block: 256 bytes of values, then its eight rows' float scales.</summary>
    public const int BlockBytes = ScaleOffset + GroupRows * sizeof(float);

    public Q8Interleaved(byte* q8, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(columns % 32, 0, nameof(columns));
        Blocks = columns / 32;
        Stride = Blocks * BlockBytes;
        Groups = (rows + GroupRows - 1) / GroupRows;
        Quants = new HugePageMemory((long)Groups * Stride);
        for (long g = 0; g < Groups; g++)
        {
            for (var b = 0; b < Blocks; b++)
            {
                var destination = Quants.Pointer + (g * Blocks + b) * BlockBytes;
                for (var r = 0; r < GroupRows; r++)
                {
                    var row = g * GroupRows + r;
                    var scale = (float*)(destination + ScaleOffset) + r;
                    if (row >= rows)
                    {
                        *scale = 0f;
                        for (var k = 0; k < 8; k++)
                        {
                            *(uint*)(destination + k * 32 + r * 4) = 0x80808080u;
                        }

                        continue;
                    }

                    var block = q8 + (row * Blocks + b) * BlockDecoders.Q8BlockBytes;
                    *scale = BlockDecoders.Half(block);
                    for (var k = 0; k < 8; k++)
                    {
                        // Four values of row r for positions 4k..4k+3, sign bit flipped (two's complement + 128).
                        *(uint*)(destination + k * 32 + r * 4) = *(uint*)(block + 2 + k * 4) ^ 0x80808080u;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Stores a group's eight row outputs at <paramref name="y"/>, only the <paramref name="rows"/> real ones when the group
    /// is the padded last one (what every kernel on this copy writes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreGroup(Vector256<float> value, float* y, int rows)
    {
        if (rows >= GroupRows)
        {
            value.Store(y);
            return;
        }

        for (var r = 0; r < rows; r++)
        {
            y[r] = value.GetElement(r);
        }
    }

    /// <summary>32-value blocks per row.</summary>
    public int Blocks { get; }

    /// <summary>Bytes from one group's values and scales to the next's.</summary>
    public int Stride { get; }

    /// <summary>Groups of <see cref="GroupRows"/> rows (the last one padded): the kernel's work items.</summary>
    public int Groups { get; }

    public HugePageMemory Quants { get; }

    /// <summary>The memory this copy holds (for locking and release).</summary>
    public IEnumerable<HugePageMemory> Memory => [Quants];

    /// <summary>The copy <paramref name="layout"/> names, or null for <see cref="Q8Layout.Blocks"/> (the tensor's own bytes).</summary>
    public static Q8Interleaved? For(Q8Layout layout, byte* q8, int rows, int columns) =>
        layout == Q8Layout.Interleaved ? new Q8Interleaved(q8, rows, columns) : null;

    /// <summary>Points <paramref name="args"/> at this copy (what the layout's kernels read).</summary>
    public void Apply(ref DenseArgs args)
    {
        args.Weights = Quants.Pointer;
        args.WeightStride = Stride;
    }

    public void Dispose() => Quants.Dispose();
}
