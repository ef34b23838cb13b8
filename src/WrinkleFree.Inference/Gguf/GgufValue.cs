namespace WrinkleFree.Inference.Gguf;

/// <summary>
/// One metadata value. Scalars are boxed .NET primitives; strings are <see cref="string"/>; arrays are typed .NET arrays
/// (<c>string[]</c>, <c>int[]</c>, <c>float[]</c>...) with <see cref="ElementType"/> naming the GGUF element type.
/// Nested arrays are <c>GgufValue[]</c>.
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue Of(string value) => new(GgufValueType.String, value);

    public static GgufValue Of(uint value) => new(GgufValueType.UInt32, value);

    public static GgufValue Of(int value) => new(GgufValueType.Int32, value);

    public static GgufValue Of(float value) => new(GgufValueType.Float32, value);

    public static GgufValue Of(bool value) => new(GgufValueType.Bool, value);

    public static GgufValue Of(ulong value) => new(GgufValueType.UInt64, value);

    public static GgufValue Of(string[] values) => new(GgufValueType.Array, values, GgufValueType.String);

    public static GgufValue Of(int[] values) => new(GgufValueType.Array, values, GgufValueType.Int32);

    public static GgufValue Of(float[] values) => new(GgufValueType.Array, values, GgufValueType.Float32);

    /// <summary>True for the integer scalar types.</summary>
    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    public override string ToString() => Value switch
    {
        string s => s,
        Array a => $"[{ElementType} x {a.Length}]",
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
