using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// The input of a matrix multiply: <see cref="Batch"/> rows of <see cref="Columns"/> floats, row-major. Quantized forms are
/// computed once per content version and shared by every matrix that reads the same input (q/k/v, gate/up).
/// </summary>
public sealed unsafe class ActivationBatch
{
    private readonly PinnedBuffer<float> _data;
    private int _batch;
    private long _version;
    private Int8Activations? _int8;
    private Q8Activations? _q8;

    /// <summary>Creates a batch that holds up to <paramref name="maxBatch"/> rows of <paramref name="columns"/> floats.</summary>
    public ActivationBatch(int maxBatch, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        MaxBatch = maxBatch;
        Columns = columns;
        _data = new PinnedBuffer<float>(checked(maxBatch * columns));
        _batch = maxBatch;
    }

    public int MaxBatch { get; }

    public int Columns { get; }

    /// <summary>Rows in use (1..MaxBatch); setting it drops the cached quantized forms.</summary>
    public int Batch
    {
        get => _batch;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxBatch);
            _batch = value;
            _version++;
        }
    }

    /// <summary>The <see cref="Batch"/>·<see cref="Columns"/> floats in use. Call <see cref="MarkDirty"/> after writing them.</summary>
    public Span<float> Data => new(_data.Pointer, _batch * Columns);

    internal float* Pointer => _data.Pointer;

    /// <summary>Row <paramref name="b"/> of the batch.</summary>
    public Span<float> Row(int b)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(b, _batch);
        return new Span<float>(_data.Pointer + (long)b * Columns, Columns);
    }

    /// <summary>Tells the batch its data changed, so the quantized forms are recomputed on next use.</summary>
    public void MarkDirty() => _version++;

    /// <summary>The int8 form, quantized now if the data changed; with a <paramref name="pool"/>, its threads share the rows.</summary>
    internal Int8Activations GetInt8(WorkerPool? pool = null)
    {
        var cache = _int8 ??= new Int8Activations(MaxBatch, Columns);
        if (cache.Version != _version)
        {
            cache.Quantize(_data.Pointer, _batch, pool);
            cache.Version = _version;
        }

        return cache;
    }

    internal Q8Activations GetQ8()
    {
        var cache = _q8 ??= new Q8Activations(MaxBatch, Columns);
        if (cache.Version != _version)
        {
            cache.Quantize(_data.Pointer, _batch);
            cache.Version = _version;
        }

        return cache;
    }
}
