using System.Text;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Inference.Gguf;

/// <summary>
/// Writes GGUF v3 files: metadata in insertion order, tensor infos, then aligned tensor data. Used by tests,
/// <c>wf model synth</c> and the training export. The file is written to a temp path, fsynced and renamed.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public int Alignment { get; init; } = GgufFile.DefaultAlignment;

    public GgufWriter Add(string key, GgufValue value)
    {
        var i = _metadata.FindIndex(kv => kv.Key == key);
        if (i >= 0)
        {
            _metadata[i] = new(key, value);
        }
        else
        {
            _metadata.Add(new(key, value));
        }

        return this;
    }

    public GgufWriter Add(string key, string value) => Add(key, GgufValue.Of(value));

    public GgufWriter Add(string key, uint value) => Add(key, GgufValue.Of(value));

    public GgufWriter Add(string key, float value) => Add(key, GgufValue.Of(value));

    public GgufWriter Add(string key, bool value) => Add(key, GgufValue.Of(value));

    /// <summary>Adds a tensor; <paramref name="shape"/> is in ggml order (row length first); data must match the type's size.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        var info = GgmlTypeInfo.Of(type) ?? throw new ArgumentException($"unsupported tensor type {type}", nameof(type));
        long elements = 1;
        foreach (var d in shape)
        {
            elements *= d;
        }

        var expected = shape.Length > 0 ? info.ByteSize(elements, shape[0]) : info.ByteSize(elements);
        if (expected != data.Length)
        {
            throw new ArgumentException($"tensor '{name}' ({type} [{string.Join(",", shape)}]) needs {expected} bytes, got {data.Length}", nameof(data));
        }

        if (!_names.Add(name))
        {
            throw new ArgumentException($"tensor '{name}' added twice", nameof(name));
        }

        _tensors.Add(new PendingTensor(name, type, shape, data));
        return this;
    }

    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        var metadata = _metadata.ToList();
        if (Alignment != GgufFile.DefaultAlignment && metadata.All(kv => kv.Key != "general.alignment"))
        {
            metadata.Add(new("general.alignment", GgufValue.Of((uint)Alignment)));
        }

        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (var i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (var d in t.Shape)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)t.Type);
            offsets[i] = offset;
            w.Write((ulong)offset);
            offset = GgufHeader.AlignUp(offset + t.Data.Length, Alignment);
        }

        w.Flush();
        PadTo(stream, Alignment);
        var start = stream.Position;
        for (var i = 0; i < _tensors.Count; i++)
        {
            WriteZeros(stream, start + offsets[i] - stream.Position);
            stream.Write(_tensors[i].Data.Span);
        }

        PadTo(stream, Alignment);
    }

    /// <summary>Writes atomically: temp file in the same folder, fsync, rename over <paramref name="path"/>.</summary>
    public void WriteTo(string path) => AtomicFile.Write(path, WriteTo);

    private static void PadTo(Stream stream, int alignment) =>
        WriteZeros(stream, (alignment - stream.Position % alignment) % alignment);

    private static void WriteZeros(Stream stream, long count)
    {
        for (long i = 0; i < count; i++)
        {
            stream.WriteByte(0);
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        switch (value.Value)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            case Array a:
                w.Write((uint)value.ElementType);
                w.Write((ulong)a.Length);
                foreach (var item in a)
                {
                    WriteValue(w, item as GgufValue ?? new GgufValue(value.ElementType, item));
                }

                break;
            default: throw new ArgumentException($"cannot write metadata value of type {value.Value.GetType()}");
        }
    }

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, ReadOnlyMemory<byte> Data);
}
