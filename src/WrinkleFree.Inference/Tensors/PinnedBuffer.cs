using System.Runtime.CompilerServices;

namespace WrinkleFree.Inference.Tensors;

/// <summary>
/// A pinned, 64-byte aligned array: kernels keep raw pointers into it across a pool run without a fixed block per call,
/// and aligned rows keep 512-bit loads from splitting cache lines.
/// </summary>
internal sealed unsafe class PinnedBuffer<T>
    where T : unmanaged
{
    private const int Alignment = 64;
    private readonly T[] _array;

    public PinnedBuffer(int length)
    {
        Length = length;
        var pad = (Alignment + sizeof(T) - 1) / sizeof(T);
        _array = GC.AllocateArray<T>(length + pad, pinned: true);
        var start = (nint)Unsafe.AsPointer(ref _array[0]);
        var offset = (int)((Alignment - (start & (Alignment - 1))) & (Alignment - 1)) / sizeof(T);
        Pointer = (T*)start + offset;
        // Written once now: a fresh large array is not yet backed by memory, and its page faults would otherwise land in
        // the first request that uses the buffer.
        Array.Clear(_array);
    }

    public int Length { get; }

    public T* Pointer { get; }

    public Span<T> Span => new(Pointer, Length);
}
