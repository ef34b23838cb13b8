using System.Text;

namespace WrinkleFree.Inference.Gguf;

/// <summary>Parses and validates everything before the tensor data: header, metadata, tensor infos, alignment.</summary>
internal sealed unsafe class GgufHeader
{
    private const int MaxDims = 4;
    private const int MaxArrayNesting = 4;
    private const long MaxStringBytes = 1L << 30;
    private const int InitialCapacity = 4096;

    public required uint Version { get; init; }
    public required GgufMetadata Metadata { get; init; }
    public required IReadOnlyList<GgufTensorInfo> Tensors { get; init; }
    public required int Alignment { get; init; }
    public required long DataOffset { get; init; }

    public static GgufHeader Parse(byte* data, long length)
    {
        var r = new Reader(data, length);
        var magic = r.U32("magic");
        if (magic != GgufFile.Magic)
        {
            throw new GgufFormatException($"bad magic 0x{magic:X8}, expected 0x{GgufFile.Magic:X8} (\"GGUF\"); this is not a GGUF file", 0);
        }

        var version = r.U32("version");
        if (version is not (2 or 3))
        {
            throw new GgufFormatException($"unsupported GGUF version {version}, expected 2 or 3", 4);
        }

        var tensorCountAt = r.Position;
        var tensorCount = r.U64("tensor count");
        var kvCountAt = r.Position;
        var kvCount = r.U64("metadata count");
        // Every key/value takes at least 13 bytes and every tensor info at least 28: bound counts by the file size
        // before allocating anything, so a hostile count cannot request a huge allocation.
        if (kvCount > (ulong)(length / 13))
        {
            throw new GgufFormatException($"metadata count {kvCount} cannot fit in a {length}-byte file", kvCountAt);
        }

        if (tensorCount > (ulong)(length / 28))
        {
            throw new GgufFormatException($"tensor count {tensorCount} cannot fit in a {length}-byte file", tensorCountAt);
        }

        // Counts are bounded by the file size, which for files over 28 GiB still exceeds int.MaxValue: cap the initial
        // capacity rather than cast the count, and let the lists grow as entries actually parse.
        var kvs = new List<KeyValuePair<string, GgufValue>>((int)Math.Min(kvCount, InitialCapacity));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var keyAt = r.Position;
            var key = r.String($"key of metadata entry {i}");
            if (!seen.Add(key))
            {
                throw new GgufFormatException($"duplicate metadata key '{key}'", keyAt);
            }

            var typeAt = r.Position;
            var type = (GgufValueType)r.U32($"value type of '{key}'");
            kvs.Add(new(key, r.Value(type, key, typeAt, 0)));
        }

        var metadata = new GgufMetadata(kvs);
        var alignment = DefaultAlignment(metadata);

        var raw = new List<(string Name, GgmlType Type, long[] Shape, ulong Offset, long At)>((int)Math.Min(tensorCount, InitialCapacity));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var at = r.Position;
            var name = r.String($"name of tensor {i}");
            if (!names.Add(name))
            {
                throw new GgufFormatException($"duplicate tensor name '{name}'", at);
            }

            var dimsAt = r.Position;
            var nDims = r.U32($"dimension count of '{name}'");
            if (nDims is 0 or > MaxDims)
            {
                throw new GgufFormatException($"tensor '{name}' has {nDims} dimensions, expected 1 to {MaxDims}", dimsAt);
            }

            var shape = new long[nDims];
            long elements = 1;
            for (var d = 0; d < nDims; d++)
            {
                var dimAt = r.Position;
                var dim = r.U64($"dimension {d} of '{name}'");
                if (dim == 0 || dim > (ulong)(length * 8 / elements))
                {
                    throw new GgufFormatException($"tensor '{name}' dimension {d} = {dim} is impossible for a {length}-byte file", dimAt);
                }

                shape[d] = (long)dim;
                elements *= (long)dim;
            }

            var typeAt = r.Position;
            var type = (GgmlType)r.U32($"type of '{name}'");
            var offset = r.U64($"data offset of '{name}'");
            raw.Add((name, type, shape, offset, typeAt));
        }

        var dataOffset = AlignUp(r.Position, alignment);
        if (raw.Count > 0 && dataOffset > length)
        {
            throw new GgufFormatException($"tensor data section would start at {dataOffset}, past the end of the {length}-byte file", r.Position);
        }

        var architecture = metadata.GetStringOrNull("general.architecture") ?? "";
        var tensors = new List<GgufTensorInfo>(raw.Count);
        foreach (var (name, type, shape, offset, at) in raw)
        {
            var resolved = ResolveType(type, architecture, name, at);
            var info = GgmlTypeInfo.Of(resolved)
                ?? throw new GgufFormatException($"tensor '{name}' has unknown ggml type {(uint)type}", at);
            long elements = 1;
            foreach (var d in shape)
            {
                elements *= d;
            }

            if (shape[0] % info.BlockSize != 0)
            {
                throw new GgufFormatException(
                    $"tensor '{name}' row length {shape[0]} is not a multiple of the {resolved} block size {info.BlockSize}", at);
            }

            var size = info.ByteSize(elements, (long)shape[0]);
            if (offset % (ulong)alignment != 0)
            {
                throw new GgufFormatException($"tensor '{name}' data offset {offset} is not aligned to {alignment}", at + 4);
            }

            if (offset > (ulong)length || (long)offset + dataOffset + size > length)
            {
                throw new GgufFormatException(
                    $"tensor '{name}' ({resolved}, {size} bytes at data offset {offset}) extends past the end of the {length}-byte file; the file is truncated",
                    at + 4);
            }

            tensors.Add(new GgufTensorInfo(name, resolved, shape, dataOffset + (long)offset, size));
        }

        CheckOverlaps(tensors);
        return new GgufHeader { Version = version, Metadata = metadata, Tensors = tensors, Alignment = alignment, DataOffset = dataOffset };
    }

    internal static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;

    private static int DefaultAlignment(GgufMetadata metadata)
    {
        if (metadata.Find("general.alignment") is not { } v)
        {
            return GgufFile.DefaultAlignment;
        }

        var a = v.IsInteger ? metadata.GetInteger("general.alignment") : -1;
        if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
        {
            throw new GgufFormatException($"general.alignment = {v} is not a power of two between 1 and 2^20");
        }

        return (int)a;
    }

    /// <summary>
    /// Type 39 is MXFP4 upstream and TL2 in bitnet.cpp. The fork writes architecture <c>bitnet-b1.58</c>/<c>bitnet</c>
    /// files and upstream never writes MXFP4 for them, so a 39 in a BitNet file is TL2, which we reject with advice.
    /// </summary>
    private static GgmlType ResolveType(GgmlType type, string architecture, string name, long at)
    {
        if (type == GgmlType.MXFP4 && architecture.StartsWith("bitnet", StringComparison.Ordinal))
        {
            throw new GgufFormatException(
                $"tensor '{name}' uses type 39, which in a '{architecture}' file is bitnet.cpp's TL2 (kernels generated per shape); "
                + "re-convert the model to I2_S or TQ2_0", at);
        }

        return type;
    }

    private static void CheckOverlaps(List<GgufTensorInfo> tensors)
    {
        var sorted = tensors.OrderBy(t => t.FileOffset).ToArray();
        for (var i = 1; i < sorted.Length; i++)
        {
            var prev = sorted[i - 1];
            if (prev.FileOffset + prev.ByteSize > sorted[i].FileOffset)
            {
                throw new GgufFormatException($"tensors '{prev.Name}' and '{sorted[i].Name}' overlap", sorted[i].FileOffset);
            }
        }
    }

    /// <summary>Bounds-checked little-endian cursor over the mapping; every read names what it was reading.</summary>
    private sealed class Reader(byte* data, long length)
    {
        public long Position { get; private set; }

        private byte* Take(long n, string what)
        {
            if (n < 0 || n > length - Position)
            {
                throw new GgufFormatException($"file ends while reading {what} ({n} bytes needed, {length - Position} left); the file is truncated", Position);
            }

            var p = data + Position;
            Position += n;
            return p;
        }

        public uint U32(string what) => *(uint*)Take(4, what);

        public ulong U64(string what) => *(ulong*)Take(8, what);

        public string String(string what)
        {
            var at = Position;
            var len = U64($"length of {what}");
            if (len > (ulong)(length - Position) || len > MaxStringBytes)
            {
                throw new GgufFormatException($"{what}: string length {len} exceeds the {length - Position} bytes left", at);
            }

            var p = Take((long)len, what);
            return Encoding.UTF8.GetString(p, (int)len);
        }

        public GgufValue Value(GgufValueType type, string key, long at, int depth) => type switch
        {
            GgufValueType.UInt8 => new(type, *Take(1, key)),
            GgufValueType.Int8 => new(type, *(sbyte*)Take(1, key)),
            GgufValueType.UInt16 => new(type, *(ushort*)Take(2, key)),
            GgufValueType.Int16 => new(type, *(short*)Take(2, key)),
            GgufValueType.UInt32 => new(type, *(uint*)Take(4, key)),
            GgufValueType.Int32 => new(type, *(int*)Take(4, key)),
            GgufValueType.Float32 => new(type, *(float*)Take(4, key)),
            GgufValueType.Bool => new(type, Bool(key)),
            GgufValueType.String => new(type, String($"value of '{key}'")),
            GgufValueType.UInt64 => new(type, *(ulong*)Take(8, key)),
            GgufValueType.Int64 => new(type, *(long*)Take(8, key)),
            GgufValueType.Float64 => new(type, *(double*)Take(8, key)),
            GgufValueType.Array => Array(key, depth),
            _ => throw new GgufFormatException($"metadata key '{key}' has unknown value type {(uint)type}", at),
        };

        private bool Bool(string key)
        {
            var at = Position;
            var b = *Take(1, key);
            return b switch
            {
                0 => false,
                1 => true,
                _ => throw new GgufFormatException($"metadata key '{key}': bool byte is {b}, expected 0 or 1", at),
            };
        }

        private GgufValue Array(string key, int depth)
        {
            var at = Position;
            if (depth >= MaxArrayNesting)
            {
                throw new GgufFormatException($"metadata key '{key}': arrays nested deeper than {MaxArrayNesting}", at);
            }

            var elementType = (GgufValueType)U32($"element type of '{key}'");
            var countAt = Position;
            var count = U64($"element count of '{key}'");
            var min = elementType switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1UL,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2UL,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4UL,
                GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8UL,
                GgufValueType.Array => 12UL,
                _ => throw new GgufFormatException($"metadata key '{key}': unknown array element type {(uint)elementType}", at),
            };
            if (count > (ulong)(length - Position) / min)
            {
                throw new GgufFormatException($"metadata key '{key}': {count} elements cannot fit in the {length - Position} bytes left", countAt);
            }

            if (count > (ulong)System.Array.MaxLength)
            {
                throw new GgufFormatException($"metadata key '{key}': {count} elements exceed the {System.Array.MaxLength} an array can hold", countAt);
            }

            var n = (int)count;
            object values = elementType switch
            {
                GgufValueType.UInt8 => Copy<byte>(n, key),
                GgufValueType.Int8 => Copy<sbyte>(n, key),
                GgufValueType.UInt16 => Copy<ushort>(n, key),
                GgufValueType.Int16 => Copy<short>(n, key),
                GgufValueType.UInt32 => Copy<uint>(n, key),
                GgufValueType.Int32 => Copy<int>(n, key),
                GgufValueType.Float32 => Copy<float>(n, key),
                GgufValueType.UInt64 => Copy<ulong>(n, key),
                GgufValueType.Int64 => Copy<long>(n, key),
                GgufValueType.Float64 => Copy<double>(n, key),
                GgufValueType.Bool => Bools(n, key),
                GgufValueType.String => Strings(n, key),
                _ => Nested(n, key, depth),
            };
            return new GgufValue(GgufValueType.Array, values, elementType);
        }

        private T[] Copy<T>(int n, string key)
            where T : unmanaged
        {
            var p = Take((long)n * sizeof(T), key);
            return new ReadOnlySpan<T>(p, n).ToArray();
        }

        private bool[] Bools(int n, string key)
        {
            var result = new bool[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = Bool(key);
            }

            return result;
        }

        private string[] Strings(int n, string key)
        {
            var result = new string[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = String($"element {i} of '{key}'");
            }

            return result;
        }

        private GgufValue[] Nested(int n, string key, int depth)
        {
            var result = new GgufValue[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = Array(key, depth + 1);
            }

            return result;
        }
    }
}
