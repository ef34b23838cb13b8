using System.Buffers.Binary;
using System.Text;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>
/// Hyper-parameters the model builder sizes arrays from are checked against sane bounds and the file before anything is
/// allocated: block_count 2^31-1 once threw OutOfMemoryException; now it is a format error naming the key.
/// </summary>
[Collection(SyntheticModelCollection.Name)]
public sealed class ModelHyperparameterBoundsTests(SyntheticModelFixture models) : IDisposable
{
    private readonly string _path = TestPaths.TempFile();

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData("bitnet.block_count", 0x7FFF_FFFFu, "must be between 1 and 4096")]
    [InlineData("bitnet.block_count", 4000u, "tensors (a block needs at least 9)")]
    [InlineData("bitnet.block_count", 0u, "must be between 1 and 4096")]
    [InlineData("bitnet.context_length", 0xFFFF_FFFFu, "must be between 1 and 16777216")]
    [InlineData("bitnet.embedding_length", 0x7FFF_FFFFu, "must be between 1 and 1048576")]
    [InlineData("bitnet.feed_forward_length", 0xFFFF_FFFFu, "must be between 1 and 4194304")]
    [InlineData("bitnet.attention.head_count", 0x8000_0000u, "must be between 1 and 1048576")]
    public void Load_HostileHyperparameter_FormatErrorNamingTheKey(string key, uint value, string detail)
    {
        File.WriteAllBytes(_path, Patched(File.ReadAllBytes(models.Path(GgmlType.TQ2_0)), key, value));

        var error = Assert.Throws<GgufFormatException>(() => Model.Load(_path).Dispose());

        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(detail, error.Message, StringComparison.Ordinal);
    }

    /// <summary>The file with the uint32 value of <paramref name="key"/> replaced (the synthetic model writes these as uint32).</summary>
    private static byte[] Patched(byte[] file, string key, uint value)
    {
        var name = Encoding.UTF8.GetBytes(key);
        // A key is written as its uint64 length, its bytes, then the uint32 value type (4 = uint32) and the value.
        var lengthPrefixed = new byte[8 + name.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthPrefixed, (ulong)name.Length);
        name.CopyTo(lengthPrefixed, 8);
        var at = file.AsSpan().IndexOf(lengthPrefixed);
        Assert.True(at > 0, $"key {key} not found");
        var typeAt = at + lengthPrefixed.Length;
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(typeAt)));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(typeAt + 4), value);
        return file;
    }
}
