using System.Globalization;

namespace WrinkleFree.Inference.Gguf;

/// <summary>The key/value section of a GGUF file with typed accessors that name the key when a value has the wrong type.</summary>
public sealed class GgufMetadata
{
    private readonly Dictionary<string, GgufValue> _values;

    public GgufMetadata(IEnumerable<KeyValuePair<string, GgufValue>> values)
    {
        _values = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            _values[key] = value;
        }
    }

    /// <summary>Keys in file order is not kept; keys are returned sorted for stable output.</summary>
    public IReadOnlyList<string> Keys => _values.Keys.Order(StringComparer.Ordinal).ToArray();

    public int Count => _values.Count;

    public bool Contains(string key) => _values.ContainsKey(key);

    public GgufValue? Find(string key) => _values.GetValueOrDefault(key);

    public GgufValue this[string key] =>
        _values.TryGetValue(key, out var v) ? v : throw new GgufFormatException($"missing metadata key '{key}'");

    public string GetString(string key) => Find(key) is { } v ? AsString(key, v) : throw Missing(key);

    public string? GetStringOrNull(string key) => Find(key) is { } v ? AsString(key, v) : null;

    public long GetInteger(string key) => Find(key) is { } v ? AsInteger(key, v) : throw Missing(key);

    public long GetInteger(string key, long fallback) => Find(key) is { } v ? AsInteger(key, v) : fallback;

    public double GetFloat(string key) => Find(key) is { } v ? AsFloat(key, v) : throw Missing(key);

    public double GetFloat(string key, double fallback) => Find(key) is { } v ? AsFloat(key, v) : fallback;

    public bool GetBool(string key, bool fallback) => Find(key) is { } v
        ? v.Value is bool b ? b : v.IsInteger ? AsInteger(key, v) != 0 : throw WrongType(key, "bool", v)
        : fallback;

    /// <summary>An array value as <typeparamref name="T"/>[], or null when the key is absent.</summary>
    public T[]? GetArray<T>(string key)
    {
        if (Find(key) is not { } v)
        {
            return null;
        }

        if (v.Value is T[] typed)
        {
            return typed;
        }

        if (v.Value is Array a && typeof(T) != typeof(string) && a.GetType().GetElementType()!.IsPrimitive)
        {
            var result = new T[a.Length];
            for (var i = 0; i < a.Length; i++)
            {
                result[i] = (T)Convert.ChangeType(a.GetValue(i)!, typeof(T), CultureInfo.InvariantCulture);
            }

            return result;
        }

        throw WrongType(key, typeof(T).Name + "[]", v);
    }

    private static string AsString(string key, GgufValue v) => v.Value as string ?? throw WrongType(key, "string", v);

    private static long AsInteger(string key, GgufValue v) => v.Value switch
    {
        byte x => x,
        sbyte x => x,
        ushort x => x,
        short x => x,
        uint x => x,
        int x => x,
        ulong x => x <= long.MaxValue ? (long)x : throw WrongType(key, "integer <= 2^63", v),
        long x => x,
        _ => throw WrongType(key, "integer", v),
    };

    private static double AsFloat(string key, GgufValue v) => v.Value switch
    {
        float f => f,
        double d => d,
        _ when v.IsInteger => AsInteger(key, v),
        _ => throw WrongType(key, "float", v),
    };

    private static GgufFormatException Missing(string key) => new($"missing metadata key '{key}'");

    private static GgufFormatException WrongType(string key, string expected, GgufValue v) =>
        new($"metadata key '{key}': expected {expected}, found {v.Type}{(v.Type == GgufValueType.Array ? " of " + v.ElementType : "")}");
}
