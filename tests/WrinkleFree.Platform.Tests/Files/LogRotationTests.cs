using System.Diagnostics;
using System.Text.RegularExpressions;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Platform.Tests.Files;

public sealed partial class LogRotationTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "wf-platform-tests", Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public void RotateIfNeeded_BelowTheLimit_LeavesTheFileAlone()
    {
        var log = Path.Combine(_dir, "a.log");
        File.WriteAllText(log, new string('x', 99));
        using var rotation = LogRotation.ForFile(log, maxBytes: 100);

        Assert.False(rotation.RotateIfNeeded());
        Assert.Equal(99, new FileInfo(log).Length);
        Assert.False(File.Exists(log + ".1"));
    }

    [Fact]
    public void RotateIfNeeded_FiveRotations_ShiftsTheCopiesKeepsThreeAndTruncatesInPlace()
    {
        var log = Path.Combine(_dir, "a.log");
        using var rotation = LogRotation.ForFile(log, maxBytes: 100);
        for (var round = 1; round <= 5; round++)
        {
            File.AppendAllText(log, new string((char)('0' + round), 100));
            Assert.True(rotation.RotateIfNeeded());
            Assert.Equal(0, new FileInfo(log).Length);
        }

        Assert.Equal(new string('5', 100), File.ReadAllText(log + ".1"));
        Assert.Equal(new string('4', 100), File.ReadAllText(log + ".2"));
        Assert.Equal(new string('3', 100), File.ReadAllText(log + ".3"));
        Assert.False(File.Exists(log + ".4"));
        Assert.Equal(5, rotation.Rotations);
    }

    [Fact]
    public async Task WatchStandardOutput_ChildWritingLines_RotatesItsOwnLogAndLosesLinesOnlyInTheCopyTruncateWindow()
    {
        const int Lines = 20_000;
        var log = Path.Combine(_dir, "child.log");
        // Keep every rotated file, so every line written can be accounted for.
        var (command, environment) = LogWriterChild.Command(Lines, maxBytes: 32 << 10, keep: 10_000);
        using (var child = SessionProcess.Start(command, log, environment: environment))
        {
            await child.WaitForExitAsync().WaitAsync(Deadline);
            Assert.True(child.ExitCode == 0, $"the writer exited {child.ExitCode}:\n{File.ReadAllText(log)}");
        }

        // Oldest first: child.log.N .. child.log.1, then child.log.
        var rotated = Directory.GetFiles(_dir).Where(f => f.StartsWith(log + ".", StringComparison.Ordinal))
            .OrderByDescending(f => int.Parse(f[(log.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(rotated.Count >= 3, $"only {rotated.Count} rotations of {new FileInfo(log).Length} bytes");
        var files = rotated.Append(log).Select(f => (File: Path.GetFileName(f), Numbers: Numbers(f))).ToList();

        // Within a file the lines are whole and consecutive; a gap (lines written between a copy's last read and the
        // truncate) can only sit between two files. The last line written is never lost.
        var previous = -1;
        foreach (var (file, numbers) in files)
        {
            for (var i = 1; i < numbers.Count; i++)
            {
                Assert.True(numbers[i] == numbers[i - 1] + 1, $"{file}: line {numbers[i - 1]} is followed by {numbers[i]}");
            }

            if (numbers.Count > 0)
            {
                Assert.True(numbers[0] > previous, $"{file} starts at line {numbers[0]}, after {previous}");
                previous = numbers[^1];
            }
        }

        Assert.Equal(Lines - 1, previous);
    }

    [Fact]
    public async Task WatchStandardOutput_StdoutNotInAppendMode_IsRefusedNamingWhy()
    {
        var log = Path.Combine(_dir, "truncating.log");
        var (command, environment) = LogWriterChild.Command(10, maxBytes: 1024, keep: 3);
        // `>` rather than SessionProcess's `>>`: after a truncate the writer would go on at its old offset.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", "log=$1; shift; exec \"$@\" > \"$log\"", "sh", log }.Concat(command))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var child = Process.Start(info)!;
        var stderr = await child.StandardError.ReadToEndAsync().WaitAsync(Deadline);
        await child.WaitForExitAsync().WaitAsync(Deadline);

        Assert.Equal(3, child.ExitCode);
        Assert.Contains("not open in append mode", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<int> Numbers(string path)
    {
        var numbers = new List<int>();
        foreach (var line in File.ReadAllLines(path))
        {
            var match = LinePattern().Match(line);
            Assert.True(match.Success, $"{Path.GetFileName(path)} holds a line the writer never wrote: '{line}'");
            numbers.Add(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        return numbers;
    }

    [GeneratedRegex(@"^line (\d{6}) the quick brown fox jumps over the lazy dog$")]
    private static partial Regex LinePattern();
}
