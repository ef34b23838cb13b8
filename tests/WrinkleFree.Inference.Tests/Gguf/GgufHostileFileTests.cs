using System.Text;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors.Formats;

namespace WrinkleFree.Inference.Tests.Gguf;

/// <summary>
/// Truncated, bit-flipped and hand-crafted hostile GGUF files: <see cref="GgufFile.Open"/> must answer each with a
/// <see cref="GgufFormatException"/> naming what was wrong, or succeed with every tensor inside the file; never another
/// exception type, a hang or an access violation (which would take the test host down).
/// </summary>
public sealed class GgufHostileFileTests : IDisposable
{
    private readonly string _path = TestPaths.TempFile();

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Open_TruncatedAtEveryOffset_ThrowsWithOffsetOrSucceedsOnlyWhenTensorsFit()
    {
        var bytes = ValidFile();
        long end;
        using (var full = OpenBytes(bytes))
        {
            end = full.Tensors.Max(t => t.FileOffset + t.ByteSize);
        }

        for (var length = 0; length < bytes.Length; length++)
        {
            var outcome = TryOpen(bytes.AsSpan(0, length));
            if (length >= end)
            {
                Assert.True(outcome is null, $"truncated to {length} bytes (all tensors end by {end}): {outcome?.Message}");
            }
            else
            {
                Assert.NotNull(outcome);
                Assert.True(outcome.Offset >= 0, $"truncated to {length} bytes: message names no offset: {outcome.Message}");
                Assert.Contains("offset", outcome.Message);
            }
        }
    }

    [Fact]
    public void Open_RandomBitFlips_ThrowsOnlyFormatExceptionOrOpensConsistently()
    {
        var original = ValidFile();
        long dataOffset;
        using (var full = OpenBytes(original))
        {
            dataOffset = full.DataOffset;
        }

        var random = new Random(20240611);
        var failures = 0;
        for (var variant = 0; variant < 3000; variant++)
        {
            var bytes = (byte[])original.Clone();
            var flips = 1 + random.Next(3);
            var where = new List<int>();
            for (var f = 0; f < flips; f++)
            {
                // Nine in ten flips hit the header, where parsing decisions are made; the rest hit tensor data.
                var at = random.Next(10) < 9 ? random.Next((int)dataOffset) : random.Next(bytes.Length);
                bytes[at] ^= (byte)(1 << random.Next(8));
                where.Add(at);
            }

            try
            {
                using var gguf = OpenBytes(bytes);
                foreach (var t in gguf.Tensors)
                {
                    Assert.True(t.FileOffset >= gguf.DataOffset && t.FileOffset + t.ByteSize <= gguf.Length, $"variant {variant}: {t} outside the file");
                    // Touch every byte: a tensor pointing outside the mapping would fault here.
                    var sum = 0;
                    foreach (var b in gguf.GetSpan(t))
                    {
                        sum += b;
                    }

                    Assert.True(sum >= 0);
                }
            }
            catch (GgufFormatException)
            {
                failures++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"variant {variant} (bits flipped at {string.Join(", ", where)}) threw {ex.GetType().Name}: {ex.Message}");
            }
        }

        // Most header flips must be caught; if none were, the test is not exercising the parser.
        Assert.InRange(failures, 300, 3000);
    }

    [Fact]
    public void Open_HugeStringLength_Throws()
    {
        var bytes = new Raw().Header(tensors: 0, kvs: 1).U64(ulong.MaxValue / 2).ToArray();
        AssertRejected(bytes, "string length", 24);
    }

    [Fact]
    public void Open_HugeArrayCount_Throws()
    {
        var bytes = new Raw().Header(tensors: 0, kvs: 1).Str("tokenizer.ggml.tokens").U32(9).U32(8).U64(1UL << 40).ToArray();
        AssertRejected(bytes, "1099511627776 elements cannot fit");
    }

    [Fact]
    public void Open_HugeTensorCount_Throws()
    {
        var bytes = new Raw().Header(tensors: 1UL << 50, kvs: 0).Pad(64).ToArray();
        AssertRejected(bytes, "tensor count", 8);
    }

    [Fact]
    public void Open_HugeMetadataCount_Throws()
    {
        var bytes = new Raw().Header(tensors: 0, kvs: ulong.MaxValue).Pad(64).ToArray();
        AssertRejected(bytes, "metadata count", 16);
    }

    [Fact]
    public void Open_FiveDimensions_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", GgmlType.F32, [1, 1, 1, 1, 1], 0).Data(64).ToArray();
        AssertRejected(bytes, "'w' has 5 dimensions");
    }

    [Fact]
    public void Open_ZeroDimension_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", GgmlType.F32, [4, 0], 0).Data(64).ToArray();
        AssertRejected(bytes, "'w' dimension 1 = 0");
    }

    [Fact]
    public void Open_DimensionProductOverflows_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", GgmlType.F32, [1L << 32, 1L << 32, 1L << 32], 0).Data(64).ToArray();
        AssertRejected(bytes, "'w' dimension");
    }

    [Fact]
    public void Open_MisalignedOffset_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", GgmlType.F32, [8], 4).Data(64).ToArray();
        AssertRejected(bytes, "data offset 4 is not aligned to 32");
    }

    [Fact]
    public void Open_OverlappingTensors_Throws()
    {
        var bytes = new Raw().Header(2, 0)
            .Tensor("a", GgmlType.F32, [16], 0)
            .Tensor("b", GgmlType.F32, [16], 32)
            .Data(128).ToArray();
        AssertRejected(bytes, "'a' and 'b' overlap");
    }

    [Fact]
    public void Open_TensorPastEnd_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", GgmlType.F32, [64], 0).Data(64).ToArray();
        AssertRejected(bytes, "extends past the end");
    }

    [Fact]
    public void Open_UnknownTensorType_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", (GgmlType)37, [32], 0).Data(64).ToArray();
        AssertRejected(bytes, "unknown ggml type 37");
    }

    [Fact]
    public void Open_Type39InBitnetFile_ThrowsNamingTl2()
    {
        var bytes = new Raw().Header(1, 1).KvString("general.architecture", "bitnet")
            .Tensor("w", GgmlType.MXFP4, [32], 0).Data(64).ToArray();
        AssertRejected(bytes, "TL2");
    }

    [Fact]
    public void Open_Type39InLlamaFile_OpensAsMxfp4()
    {
        var bytes = new Raw().Header(1, 1).KvString("general.architecture", "llama")
            .Tensor("w", GgmlType.MXFP4, [32], 0).Data(64).ToArray();
        using var gguf = OpenBytes(bytes);
        Assert.Equal(GgmlType.MXFP4, gguf.GetTensor("w").Type);
    }

    [Theory]
    [InlineData(3u)]
    [InlineData(0u)]
    [InlineData(1u << 21)]
    public void Open_BadAlignment_Throws(uint alignment)
    {
        var bytes = new Raw().Header(0, 1).Str("general.alignment").U32((uint)GgufValueType.UInt32).U32(alignment).Pad(64).ToArray();
        AssertRejected(bytes, $"general.alignment = {alignment}");
    }

    [Fact]
    public void Open_AlignmentOfWrongType_Throws()
    {
        var bytes = new Raw().Header(0, 1).KvString("general.alignment", "32").Pad(64).ToArray();
        AssertRejected(bytes, "general.alignment");
    }

    [Fact]
    public void Open_BadMagic_Throws()
    {
        var bytes = new Raw().Header(0, 0, magic: 0x46554746).Pad(64).ToArray();
        AssertRejected(bytes, "bad magic", 0);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(4u)]
    public void Open_UnsupportedVersion_Throws(uint version)
    {
        var bytes = new Raw().Header(0, 0, version: version).Pad(64).ToArray();
        AssertRejected(bytes, $"unsupported GGUF version {version}", 4);
    }

    [Fact]
    public void Open_UnknownValueType_Throws()
    {
        var bytes = new Raw().Header(0, 1).Str("k").U32(13).U32(0).Pad(64).ToArray();
        AssertRejected(bytes, "unknown value type 13");
    }

    [Fact]
    public void Open_BoolByteTwo_Throws()
    {
        var bytes = new Raw().Header(0, 1).Str("k").U32((uint)GgufValueType.Bool).Bytes(2).Pad(64).ToArray();
        AssertRejected(bytes, "bool byte is 2");
    }

    [Fact]
    public void Open_DeeplyNestedArrays_Throws()
    {
        var raw = new Raw().Header(0, 1).Str("k").U32((uint)GgufValueType.Array);
        for (var i = 0; i < 8; i++)
        {
            raw.U32((uint)GgufValueType.Array).U64(1);
        }

        AssertRejected(raw.Pad(256).ToArray(), "nested deeper");
    }

    [Fact]
    public void Open_DuplicateKey_Throws()
    {
        var bytes = new Raw().Header(0, 2).KvString("k", "a").KvString("k", "b").Pad(64).ToArray();
        AssertRejected(bytes, "duplicate metadata key 'k'");
    }

    [Fact]
    public void Open_DuplicateTensorName_Throws()
    {
        var bytes = new Raw().Header(2, 0).Tensor("w", GgmlType.F32, [8], 0).Tensor("w", GgmlType.F32, [8], 32).Data(64).ToArray();
        AssertRejected(bytes, "duplicate tensor name 'w'");
    }

    [Fact]
    public void Open_RowNotWholeBlocks_Throws()
    {
        var bytes = new Raw().Header(1, 0).Tensor("w", GgmlType.TQ2_0, [128, 2], 0).Data(256).ToArray();
        AssertRejected(bytes, "row length 128 is not a multiple of the TQ2_0 block size 256");
    }

    [Fact]
    public void Open_MetadataCountOverInt32InHugeSparseFile_ThrowsFormatException()
    {
        // 2^31 + 5 entries pass the "13 bytes each" size bound only in a file over 28 GiB; a sparse file costs no disk.
        if (!SparseFilesLikely())
        {
            return;
        }

        var header = new Raw().Header(tensors: 0, kvs: (1UL << 31) + 5).ToArray();
        WriteSparse(header, 30L << 30);
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(_path).Dispose());
        Assert.Contains("duplicate metadata key ''", ex.Message);
    }

    [Fact]
    public void Open_ArrayCountOverInt32InHugeSparseFile_ThrowsFormatException()
    {
        if (!SparseFilesLikely())
        {
            return;
        }

        var header = new Raw().Header(tensors: 0, kvs: 1).Str("k").U32((uint)GgufValueType.Array)
            .U32((uint)GgufValueType.UInt8).U64((1UL << 31) + 1).ToArray();
        WriteSparse(header, 3L << 30);
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(_path).Dispose());
        Assert.Contains("2147483649 elements", ex.Message);
    }

    /// <summary>Linux file systems used for temp folders create sparse files, so a multi-GiB length costs no disk or time.</summary>
    private static bool SparseFilesLikely() =>
        OperatingSystem.IsLinux()
        && new DriveInfo(Path.GetTempPath()).DriveFormat is "ext4" or "xfs" or "btrfs" or "tmpfs" or "overlay" or "zfs";

    private void WriteSparse(byte[] header, long length)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using var fs = new FileStream(_path, FileMode.Create, FileAccess.Write);
        fs.Write(header);
        fs.SetLength(length);
    }

    /// <summary>A small valid file: string and int arrays, a non-default alignment and tensors of four types.</summary>
    private static byte[] ValidFile()
    {
        var f32 = new byte[4 * 16];
        var q8 = new byte[2 * 34];
        TensorCodec.Quantize(GgmlType.Q8_0, Enumerable.Range(0, 64).Select(i => i / 10f).ToArray(), q8);
        var trits = Enumerable.Range(0, 256).Select(i => (sbyte)(i % 3 - 1)).ToArray();
        using var stream = new MemoryStream();
        new GgufWriter { Alignment = 64 }
            .Add("general.architecture", "bitnet")
            .Add("general.name", "hostile")
            .Add("bitnet.block_count", 2u)
            .Add("bitnet.rope.freq_base", 500000f)
            .Add("tokenizer.ggml.tokens", GgufValue.Of(["<s>", "</s>", "hello", "world", "ünïcödé"]))
            .Add("tokenizer.ggml.token_type", GgufValue.Of([3, 3, 1, 1, 1]))
            .Add("tokenizer.ggml.scores", GgufValue.Of([0f, 0f, -1f, -2f, -3f]))
            .Add("tokenizer.ggml.add_bos_token", true)
            .AddTensor("output_norm.weight", GgmlType.F32, [16], f32)
            .AddTensor("token_embd.weight", GgmlType.Q8_0, [32, 2], q8)
            .AddTensor("blk.0.attn_q.weight", GgmlType.TQ2_0, [256, 1], TernaryEncoding.Encode(GgmlType.TQ2_0, trits, 0.5f))
            .AddTensor("blk.0.ffn_up.weight", GgmlType.I2_S, [128, 2], TernaryEncoding.Encode(GgmlType.I2_S, trits, 0.5f))
            .WriteTo(stream);
        return stream.ToArray();
    }

    private GgufFile OpenBytes(ReadOnlySpan<byte> bytes)
    {
        using (var fs = new FileStream(_path, FileMode.Create, FileAccess.Write))
        {
            fs.Write(bytes);
        }

        return GgufFile.Open(_path);
    }

    private GgufFormatException? TryOpen(ReadOnlySpan<byte> bytes)
    {
        try
        {
            OpenBytes(bytes).Dispose();
            return null;
        }
        catch (GgufFormatException ex)
        {
            return ex;
        }
    }

    private void AssertRejected(byte[] bytes, string expected, long offset = -2)
    {
        var ex = TryOpen(bytes);
        Assert.True(ex is not null, $"expected a GgufFormatException containing \"{expected}\", but the file opened");
        Assert.Contains(expected, ex.Message);
        if (offset != -2)
        {
            Assert.Equal(offset, ex.Offset);
        }
    }

    /// <summary>Little-endian byte builder for hand-made headers that GgufWriter would refuse to write.</summary>
    private sealed class Raw
    {
        private readonly MemoryStream _stream = new();
        private readonly BinaryWriter _writer;

        public Raw() => _writer = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

        public Raw Header(ulong tensors, ulong kvs, uint version = 3, uint magic = GgufFile.Magic) =>
            U32(magic).U32(version).U64(tensors).U64(kvs);

        public Raw U32(uint value)
        {
            _writer.Write(value);
            return this;
        }

        public Raw U64(ulong value)
        {
            _writer.Write(value);
            return this;
        }

        public Raw Bytes(params byte[] bytes)
        {
            _writer.Write(bytes);
            return this;
        }

        public Raw Str(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            return U64((ulong)bytes.Length).Bytes(bytes);
        }

        public Raw KvString(string key, string value) => Str(key).U32((uint)GgufValueType.String).Str(value);

        public Raw Tensor(string name, GgmlType type, long[] shape, ulong offset)
        {
            Str(name).U32((uint)shape.Length);
            foreach (var d in shape)
            {
                U64((ulong)d);
            }

            return U32((uint)type).U64(offset);
        }

        /// <summary>Zero bytes up to a total of <paramref name="length"/> (keeps tiny files over the 24-byte minimum).</summary>
        public Raw Pad(int length)
        {
            _writer.Flush();
            while (_stream.Length < length)
            {
                _stream.WriteByte(0);
            }

            return this;
        }

        /// <summary>Pads to the default 32-byte alignment, then appends a zeroed data section.</summary>
        public Raw Data(int bytes)
        {
            _writer.Flush();
            while (_stream.Length % GgufFile.DefaultAlignment != 0)
            {
                _stream.WriteByte(0);
            }

            _stream.Write(new byte[bytes]);
            return this;
        }

        public byte[] ToArray()
        {
            _writer.Flush();
            return _stream.ToArray();
        }
    }
}
