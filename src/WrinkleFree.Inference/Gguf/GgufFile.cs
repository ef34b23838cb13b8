using System.IO.MemoryMappedFiles;

namespace WrinkleFree.Inference.Gguf;

/// <summary>
/// A GGUF v2/v3 file mapped read-only into memory. Metadata and tensor infos are parsed and validated up front;
/// tensor data is never copied: <see cref="GetPointer"/> and <see cref="GetSpan"/> point into the mapping.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    /// <summary>"GGUF" read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;
    public const int DefaultAlignment = 32;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, GgufTensorInfo> _byName;
    private byte* _base;

    private GgufFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long length, GgufHeader header)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        Length = length;
        Version = header.Version;
        Metadata = header.Metadata;
        Tensors = header.Tensors;
        Alignment = header.Alignment;
        DataOffset = header.DataOffset;
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    public long Length { get; }

    public uint Version { get; }

    public GgufMetadata Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public int Alignment { get; }

    /// <summary>Absolute offset of the tensor data section.</summary>
    public long DataOffset { get; }

    /// <summary>The value of <c>general.architecture</c>, or an empty string.</summary>
    public string Architecture => Metadata.GetStringOrNull("general.architecture") ?? "";

    /// <summary>Maps and validates <paramref name="path"/>; throws <see cref="GgufFormatException"/> for a bad file.</summary>
    public static GgufFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"model file '{path}' does not exist", path);
        }

        if (info.Length < 24)
        {
            throw new GgufFormatException($"file '{path}' is {info.Length} bytes, shorter than a GGUF header (24 bytes)", info.Length);
        }

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            try
            {
                var header = GgufHeader.Parse(ptr, info.Length);
                return new GgufFile(path, map, view, ptr, info.Length, header);
            }
            catch
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                throw;
            }
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    public bool TryGetTensor(string name, out GgufTensorInfo tensor) => _byName.TryGetValue(name, out tensor!);

    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new GgufFormatException($"tensor '{name}' is missing from '{Path}'");

    /// <summary>Pointer to the first byte of <paramref name="tensor"/>'s data inside the mapping (valid until Dispose).</summary>
    public byte* GetPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return _base + tensor.FileOffset;
    }

    /// <summary>The tensor's bytes as a span over the mapping; tensors over 2 GiB must use <see cref="GetPointer"/>.</summary>
    public ReadOnlySpan<byte> GetSpan(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > int.MaxValue)
        {
            throw new InvalidOperationException($"tensor '{tensor.Name}' is {tensor.ByteSize} bytes; use GetPointer for tensors over 2 GiB");
        }

        return new ReadOnlySpan<byte>(GetPointer(tensor), (int)tensor.ByteSize);
    }

    /// <summary>Base address of the whole mapping (for mlock and bandwidth accounting).</summary>
    public byte* BasePointer => _base;

    public void Dispose()
    {
        if (_base != null)
        {
            _base = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
        }
    }
}
