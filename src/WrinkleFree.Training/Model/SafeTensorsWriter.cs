using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Training.Model;

/// <summary>Writes <c>.safetensors</c> files atomically (temp file, fsync, rename); tensors are stored in the order added.</summary>
public sealed class SafeTensorsWriter
{
    private readonly List<(string Name, SafeTensorDType DType, long[] Shape, byte[] Data)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>Adds a float32 tensor stored as <paramref name="dtype"/> (F16/BF16 round to nearest even).</summary>
    public SafeTensorsWriter Add(string name, ReadOnlySpan<float> values, long[] shape, SafeTensorDType dtype = SafeTensorDType.F32)
    {
        if (name == "__metadata__" || _tensors.Any(t => t.Name == name))
        {
            throw new ArgumentException($"tensor name '{name}' is reserved or added twice", nameof(name));
        }

        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != values.Length)
        {
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] holds {count} values, got {values.Length}", nameof(values));
        }

        byte[] data;
        switch (dtype)
        {
            case SafeTensorDType.F32:
                data = MemoryMarshal.AsBytes(values).ToArray();
                break;
            case SafeTensorDType.F16:
                data = new byte[values.Length * 2];
                var halves = MemoryMarshal.Cast<byte, Half>(data.AsSpan());
                for (var i = 0; i < values.Length; i++)
                {
                    halves[i] = (Half)values[i];
                }

                break;
            default:
                data = new byte[values.Length * 2];
                var bf = MemoryMarshal.Cast<byte, ushort>(data.AsSpan());
                for (var i = 0; i < values.Length; i++)
                {
                    var bits = (uint)BitConverter.SingleToInt32Bits(values[i]);
                    bf[i] = float.IsNaN(values[i]) ? (ushort)0x7FC0 : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
                }

                break;
        }

        _tensors.Add((name, dtype, shape, data));
        return this;
    }

    public SafeTensorsWriter AddMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    public void WriteTo(string path)
    {
        var header = new JsonObject();
        if (_metadata.Count > 0)
        {
            var m = new JsonObject();
            foreach (var (k, v) in _metadata)
            {
                m[k] = v;
            }

            header["__metadata__"] = m;
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.DType.ToString(),
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Data.Length),
            };
            offset += t.Data.Length;
        }

        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // The format asks for the data to start 8-byte aligned; pad the header with spaces.
        var padded = (json.Length + 7) & ~7;
        AtomicFile.Write(path, fs =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            fs.Write(length);
            fs.Write(json);
            for (var i = json.Length; i < padded; i++)
            {
                fs.WriteByte((byte)' ');
            }

            foreach (var t in _tensors)
            {
                fs.Write(t.Data);
            }
        });
    }
}
