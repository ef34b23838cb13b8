using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace WrinkleFree.Training.Model;

/// <summary>
/// Reads a <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON header mapping names to
/// {dtype, shape, data_offsets}, then the raw data. The header is validated once on open; errors name the tensor.
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L << 20;
    private readonly FileStream _stream;
    private readonly long _dataStart;

    private SafeTensorsFile(string path, FileStream stream, long dataStart, Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        _stream = stream;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors { get; }

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafeTensorsFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            if (stream.Length < 8)
            {
                throw Bad(path, $"file is {stream.Length} bytes, too short for the 8-byte header length");
            }

            stream.ReadExactly(lengthBytes);
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (headerLength > (ulong)Math.Min(MaxHeaderBytes, stream.Length - 8))
            {
                throw Bad(path, $"header length {headerLength} exceeds the file ({stream.Length} bytes) or the 100 MiB limit");
            }

            var header = new byte[headerLength];
            stream.ReadExactly(header);
            var dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, header, stream.Length - dataStart);
            return new SafeTensorsFile(path, stream, dataStart, tensors, metadata);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Header entry of <paramref name="name"/>; the error lists how many tensors the file has.</summary>
    public SafeTensorInfo Get(string name) =>
        Tensors.TryGetValue(name, out var info) ? info
        : throw new KeyNotFoundException($"{Path}: tensor '{name}' is not in the file ({Tensors.Count} tensors)");

    /// <summary>Reads <paramref name="name"/> converted to float32 (F16 and BF16 widen exactly).</summary>
    public float[] ReadFloat32(string name)
    {
        var info = Get(name);
        var count = checked((int)info.ElementCount);
        var raw = new byte[info.End - info.Begin];
        _stream.Position = _dataStart + info.Begin;
        _stream.ReadExactly(raw);
        var result = new float[count];
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(result);
                break;
            case SafeTensorDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(raw);
                for (var i = 0; i < count; i++)
                {
                    result[i] = (float)halves[i];
                }

                break;
            default:
                var bf = MemoryMarshal.Cast<byte, ushort>(raw);
                for (var i = 0; i < count; i++)
                {
                    result[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                }

                break;
        }

        return result;
    }

    public void Dispose() => _stream.Dispose();

    private static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Bad(path, $"header is not valid JSON: {e.Message}");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(path, "header must be a JSON object");
            }

            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw Bad(path, "__metadata__ must be an object of strings");
                    }

                    foreach (var m in p.Value.EnumerateObject())
                    {
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()!
                            : throw Bad(path, $"__metadata__ value '{m.Name}' must be a string");
                    }

                    continue;
                }

                tensors[p.Name] = ParseTensor(path, p.Name, p.Value, dataLength);
            }

            return (tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseTensor(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array
            || offsetsElement.GetArrayLength() != 2)
        {
            throw Bad(path, $"tensor '{name}': entry needs dtype (string), shape (array) and data_offsets ([begin, end])");
        }

        var dtype = dtypeElement.GetString() switch
        {
            "F32" => SafeTensorDType.F32,
            "F16" => SafeTensorDType.F16,
            "BF16" => SafeTensorDType.BF16,
            var other => throw Bad(path, $"tensor '{name}': dtype {other} is not supported (F32, F16 or BF16)"),
        };
        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out shape[i]) || shape[i] < 0)
            {
                throw Bad(path, $"tensor '{name}': shape entry {i} must be a non-negative integer");
            }

            i++;
        }

        var offsets = offsetsElement.EnumerateArray().Select(o => o.TryGetInt64(out var v) ? v : -1).ToArray();
        var info = new SafeTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
        var expected = info.ElementCount * SafeTensorInfo.ElementSize(dtype);
        if (offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
        {
            throw Bad(path, $"tensor '{name}': data_offsets [{offsets[0]}, {offsets[1]}] fall outside the {dataLength}-byte data section");
        }

        if (offsets[1] - offsets[0] != expected)
        {
            throw Bad(path, $"tensor '{name}': {dtype} [{string.Join(", ", shape)}] needs {expected} bytes, data_offsets give {offsets[1] - offsets[0]}");
        }

        return info;
    }

    private static InvalidDataException Bad(string path, string message) => new($"{path}: invalid safetensors file: {message}");
}
