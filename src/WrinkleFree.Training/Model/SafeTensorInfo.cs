namespace WrinkleFree.Training.Model;

/// <summary>One tensor's header entry: name, type, shape and byte range within the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public static int ElementSize(SafeTensorDType type) => type == SafeTensorDType.F32 ? 4 : 2;
}
