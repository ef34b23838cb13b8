using System.Buffers.Binary;
using System.Text;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests.Model;

public sealed class SafeTensorsTests
{
    [Fact]
    public void WriteRead_EveryDType_RoundTripsWithinItsPrecision()
    {
        var path = Path.Combine(TestTorch.TempDir(), "t.safetensors");
        float[] values = [1f, -2.5f, 0.1f, 65504f, 3.14159f, -0.0001f];
        new SafeTensorsWriter()
            .Add("a.f32", values, [2, 3])
            .Add("b.f16", values, [6], SafeTensorDType.F16)
            .Add("c.bf16", values, [3, 2], SafeTensorDType.BF16)
            .AddMetadata("format", "pt")
            .WriteTo(path);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal([3L, 2], file.Get("c.bf16").Shape);
        Assert.Equal(values, file.ReadFloat32("a.f32"));
        Assert.Equal(values.Select(v => (float)(Half)v), file.ReadFloat32("b.f16"));
        var bf = file.ReadFloat32("c.bf16");
        for (var i = 0; i < values.Length; i++)
        {
            Assert.True(MathF.Abs(bf[i] - values[i]) <= MathF.Abs(values[i]) / 128, $"bf16 value {i}: {bf[i]} vs {values[i]}");
        }
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}""", "tensor 'w': F32 [2, 2] needs 16 bytes")]
    [InlineData("""{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", "tensor 'w': dtype I64 is not supported")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "tensor 'w': data_offsets [0, 16] fall outside")]
    [InlineData("""{"w":{"dtype":"F32"}}""", "tensor 'w': entry needs dtype")]
    [InlineData("""not json""", "header is not valid JSON")]
    public void Open_BadHeader_NamesTheTensorAndProblem(string header, string expected)
    {
        var path = Path.Combine(TestTorch.TempDir(), "bad.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_SaysSo()
    {
        var path = Path.Combine(TestTorch.TempDir(), "short.safetensors");
        File.WriteAllBytes(path, [0xFF, 0xFF, 0, 0, 0, 0, 0, 0, (byte)'{']);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("header length 65535 exceeds the file", e.Message);
    }
}
