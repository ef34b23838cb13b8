namespace WrinkleFree.Inference.Gguf;

/// <summary>
/// A tensor's name, type and shape (ggml order: <c>Shape[0]</c> is the row length, the fastest-varying dimension),
/// its absolute byte offset in the file and its validated byte size.
/// </summary>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Shape, long FileOffset, long ByteSize)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>Row length (ne0).</summary>
    public long Columns => Shape.Length > 0 ? Shape[0] : 1;

    /// <summary>Number of rows: the product of all dimensions but the first.</summary>
    public long Rows => Shape.Length > 0 ? ElementCount / Shape[0] : 1;

    public override string ToString() => $"{Name} {Type} [{string.Join(", ", Shape)}]";
}
