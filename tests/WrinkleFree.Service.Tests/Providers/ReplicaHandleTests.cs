using System.Text.Json;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Processes;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Service.Tests.Providers;

public sealed class ReplicaHandleTests
{
    [Fact]
    public void ToJson_LocalHandle_IsSnakeCaseWithoutNullsAndRoundTrips()
    {
        var handle = new ReplicaHandle
        {
            Provider = "local",
            Service = "chat",
            ReplicaId = 4,
            EndpointUrl = "http://127.0.0.1:4000",
            Pid = 1234,
            ProcessStartTime = 987654321,
            BootId = "b",
            LogPath = "/h/logs/chat/4.log",
        };

        var json = handle.ToJson();

        Assert.Equal("""{"provider":"local","service":"chat","replica_id":4,"endpoint_url":"http://127.0.0.1:4000","pid":1234,"process_start_time":987654321,"boot_id":"b","log_path":"/h/logs/chat/4.log"}""", json);
        Assert.Equal(handle, ReplicaHandle.FromJson(json));
    }

    [Fact]
    public void FromJson_MissingRequiredField_Throws()
    {
        Assert.Throws<JsonException>(() => ReplicaHandle.FromJson("""{"provider":"local","service":"chat"}"""));
        Assert.Throws<JsonException>(() => ReplicaHandle.FromJson("null"));
    }

    [Fact]
    public void ParseStat_CommandWithSpacesAndParens_ReadsStatePgrpAndStartTime()
    {
        var line = "4242 (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 55667788 1000 10 18446744073709551615";

        var stat = LinuxProcess.ParseStat(line);

        Assert.Equal(new LinuxProcess.ProcStat('S', 4242, 55667788), stat);
        Assert.Null(LinuxProcess.ParseStat("garbage"));
    }

    [Fact]
    public void ReadStat_ThisProcess_MatchesItsOwnStartTimeTwice()
    {
        var a = LinuxProcess.ReadStat(Environment.ProcessId);
        var b = LinuxProcess.ReadStat(Environment.ProcessId);

        Assert.NotNull(a);
        Assert.Equal(a!.Value.StartTime, b!.Value.StartTime);
        Assert.False(a.Value.IsDead);
    }

    [Theory]
    [InlineData("a\nb\nc\n", 2, "b\nc\n")]
    [InlineData("a\nb\nc", 2, "b\nc")]
    [InlineData("a\nb\nc\n", 10, "a\nb\nc\n")]
    [InlineData("a\nb\nc\n", 0, "")]
    [InlineData("", 3, "")]
    [InlineData("\n\n", 1, "\n")]
    public void FindTailStart_Lines_StartsAtTheNthLastLine(string text, int lines, string expected)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));

        var start = ReplicaLogReader.FindTailStart(stream, lines);

        Assert.Equal(expected, text[(int)start..]);
    }

    [Fact]
    public void FindTailStart_LinesAcrossChunks_FindsTheBoundary()
    {
        var text = string.Concat(Enumerable.Range(0, 30_000).Select(i => $"line {i}\n"));
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));

        var start = ReplicaLogReader.FindTailStart(stream, 12_345);

        Assert.Equal(text.Split('\n')[^12_346..^1], text[(int)start..].TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task ReadAsync_FollowAcrossACopyTruncateRotation_GoesOnWithTheNewLines()
    {
        var path = Path.Combine(Path.GetTempPath(), "wf-serve-tests", Guid.NewGuid().ToString("N") + ".log");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "first line\nsecond line\n");
        var writing = 1;
        var lines = new List<string>();
        using var cancel = new CancellationTokenSource(ProviderTestSupport.Deadline);
        var follower = Task.Run(async () =>
        {
            await foreach (var line in ReplicaLogReader.ReadAsync(path, null, true, _ => Task.FromResult(Volatile.Read(ref writing) == 1), TimeSpan.FromMilliseconds(10), TimeProvider.System, cancel.Token))
            {
                lock (lines)
                {
                    lines.Add(line);
                }
            }
        });
        int Count()
        {
            lock (lines)
            {
                return lines.Count;
            }
        }

        try
        {
            await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(Count() == 2), "the first two lines");
            // The replica rotates its log: the file is copied to .1 and truncated, then written from offset 0 again.
            Assert.True(LogRotation.ForFile(path, maxBytes: 1).RotateIfNeeded());
            File.AppendAllText(path, "third\n");
            await ProviderTestSupport.WaitUntilAsync(() => Task.FromResult(Count() == 3), "the line written after the rotation");
        }
        finally
        {
            Volatile.Write(ref writing, 0);
            await follower.WaitAsync(ProviderTestSupport.Deadline);
            File.Delete(path);
            File.Delete(path + ".1");
        }

        Assert.Equal(["first line", "second line", "third"], lines);
    }
}
