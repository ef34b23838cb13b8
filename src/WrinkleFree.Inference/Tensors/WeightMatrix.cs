using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// A weight matrix of <see cref="Rows"/> rows of <see cref="Columns"/> values, read in place from a tensor's bytes (GGUF
/// shape [Columns, Rows]), with the multiply kernel that suits its type.
/// </summary>
public abstract unsafe class WeightMatrix
{
    private protected WeightMatrix(GgmlType type, nint data, int rows, int columns, string name, KernelFamily kernels)
    {
        Type = type;
        Kernels = kernels;
        Data = (byte*)data;
        Rows = rows;
        Columns = columns;
        Name = name;
        ByteSize = GgmlTypeInfo.Of(type)!.Value.ByteSize((long)rows * columns, columns);
    }

    public string Name { get; }

    public GgmlType Type { get; }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The kernel family every multiply of this matrix runs, fixed when it was created.</summary>
    public KernelFamily Kernels { get; }

    /// <summary>Bytes of the tensor data, the I2_S scale trailer included: what one multiply streams from memory.</summary>
    public long ByteSize { get; }

    internal byte* Data { get; }

    /// <summary>True when the multiplies read a load-time copy, so the tensor's bytes in the file are not touched again.</summary>
    internal virtual bool Repacked => false;

    /// <summary>The load-time copies the multiplies read (to lock them in memory and free them with the model).</summary>
    internal virtual IEnumerable<Native.HugePageMemory> Copies => [];

    /// <summary>
    /// <see cref="Create(GgmlType, nint, int, int, string, KernelFamily, bool)"/> with <see cref="KernelFamily.Default"/>.
    /// </summary>
    public static WeightMatrix Create(GgmlType type, nint data, int rows, int columns, string name, bool multiplied = true) =>
        Create(type, data, rows, columns, name, KernelFamily.Default, multiplied);

    /// <summary>
    /// Wraps the tensor bytes at <paramref name="data"/> (which must stay mapped while the matrix is used) as a matrix of
    /// <paramref name="rows"/> rows of <paramref name="columns"/> values, multiplied with the <paramref name="kernels"/>
    /// family. <paramref name="multiplied"/> false (a matrix that is only looked up, such as an untied embedding) skips the
    /// load-time copies the multiply kernels would read.
    /// </summary>
    public static WeightMatrix Create(GgmlType type, nint data, int rows, int columns, string name, KernelFamily kernels, bool multiplied = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (data == 0)
        {
            throw new ArgumentException($"tensor '{name}': null data pointer", nameof(data));
        }

        var info = GgmlTypeInfo.Of(type);
        var block = type switch
        {
            GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q6_K or GgmlType.I2_S
                or GgmlType.TQ2_0 or GgmlType.TQ1_0 => info!.Value.BlockSize,
            // Repacked at load into I2_S rows, whose blocks hold 128 values.
            GgmlType.IQ1_BN or GgmlType.IQ2_BN or GgmlType.Q2_0 => 128,
            _ => throw new NotSupportedException($"tensor '{name}': type {type} is not supported by the matrix kernels"),
        };
        if (columns % block != 0)
        {
            throw new ArgumentException($"tensor '{name}': row length {columns} is not a multiple of the {type} block size {block}", nameof(columns));
        }

        return type switch
        {
            GgmlType.I2_S or GgmlType.TQ2_0 or GgmlType.TQ1_0 or GgmlType.IQ1_BN or GgmlType.IQ2_BN or GgmlType.Q2_0 => new TernaryMatrix(type, data, rows, columns, name, kernels, multiplied),
            GgmlType.Q6_K => new DecodedMatrix(type, data, rows, columns, name, kernels),
            _ => new DenseMatrix(type, data, rows, columns, name, kernels, multiplied),
        };
    }

    /// <summary>y[b·Rows + r] = Σ_c W[r, c]·x[b, c] for the <see cref="ActivationBatch.Batch"/> rows of <paramref name="x"/>.</summary>
    public abstract void Multiply(ActivationBatch x, Span<float> y, WorkerPool pool);

    /// <summary>Writes row <paramref name="row"/> dequantized to floats (an embedding lookup).</summary>
    public abstract void GetRow(int row, Span<float> destination);

    /// <summary>Throws unless <paramref name="x"/> and <paramref name="y"/> fit this matrix (also for callers that batch several multiplies).</summary>
    internal void Validate(ActivationBatch x, Span<float> y, WorkerPool pool)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(pool);
        if (x.Columns != Columns)
        {
            throw new ArgumentException($"matrix '{Name}' has {Columns} columns but the activations have {x.Columns}", nameof(x));
        }

        if (y.Length < (long)x.Batch * Rows)
        {
            throw new ArgumentException($"matrix '{Name}': output holds {y.Length} floats, needs {(long)x.Batch * Rows}", nameof(y));
        }
    }

    private protected void ValidateRow(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        if (destination.Length < Columns)
        {
            throw new ArgumentException($"matrix '{Name}': destination holds {destination.Length} floats, a row has {Columns}", nameof(destination));
        }
    }

    private protected long RowBytes => GgmlTypeInfo.Of(Type)!.Value.RowBytes(Columns);
}
