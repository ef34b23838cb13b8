using WrinkleFree.Testing;

namespace WrinkleFree.Training.Tests.Stages;

/// <summary>
/// Preemption: the real <c>wf train</c> is SIGKILLed at random steps and relaunched; the resumed run must end with exactly
/// the weights of an uninterrupted run. Needs torch on one thread (--deterministic): with several threads the reduction
/// order of matmuls may differ between runs, and then no two runs, interrupted or not, agree bitwise.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class ResumeTests
{
    private const int Steps = 40;

    [Fact]
    public async Task SigKill_AtRandomSteps_ResumesToBitwiseIdenticalWeights()
    {
        using var temp = new TempDirectory();
        var reference = temp.Sub("reference");
        var (code, stderr) = await StageFixtures.RunWfAsync(Args(reference), TimeSpan.FromMinutes(4));
        Assert.True(code == 0, $"uninterrupted run failed ({code}): {stderr}");

        var interrupted = temp.Sub("interrupted");
        var random = new Random(20251129);
        var kills = 0;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var metrics = Path.Combine(interrupted, "metrics.jsonl");
            var doneSteps = File.Exists(metrics) ? File.ReadLines(metrics).Count() : 0;
            // A step strictly after a checkpoint of this launch, so the next launch must restore one this one wrote.
            var killAt = Math.Min(24, Math.Max(doneSteps, attempt * 8) + random.Next(4, 9));
            using var p = StageFixtures.StartWf(Args(interrupted));
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (!p.HasExited && LoggedSteps(metrics) < killAt)
            {
                Assert.True(DateTime.UtcNow < deadline, $"wf did not reach step {killAt} in time");
                await Task.Delay(20);
            }

            Assert.False(p.HasExited, $"wf finished before the kill at step {killAt}");
            p.Kill(); // SIGKILL on Linux: no handler runs, exactly like a preempted machine.
            await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            kills++;
        }

        (code, stderr) = await StageFixtures.RunWfAsync(Args(interrupted), TimeSpan.FromMinutes(4));
        Assert.True(code == 0, $"resumed run failed ({code}): {stderr}");
        Assert.Equal(2, kills);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(reference, "model.safetensors")),
            File.ReadAllBytes(Path.Combine(interrupted, "model.safetensors")));
    }

    [Fact]
    public async Task BadOption_ExitsWithConfigurationErrorCode()
    {
        using var temp = new TempDirectory();
        var (code, stderr) = await StageFixtures.RunWfAsync(["train", "stage2", "--out", temp.Path, "--steps", "many"], TimeSpan.FromMinutes(2));
        Assert.Equal(64, code);
        Assert.Contains("--steps 'many'", stderr, StringComparison.Ordinal);
        (code, stderr) = await StageFixtures.RunWfAsync(["train", "stage2", "--out", temp.Path, "--model", Path.Combine(temp.Path, "none")], TimeSpan.FromMinutes(2));
        Assert.Equal(64, code);
        Assert.Contains("--model", stderr, StringComparison.Ordinal);
    }

    private static long LoggedSteps(string metrics)
    {
        try
        {
            using var stream = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var last = 0L;
            while (reader.ReadLine() is { } line)
            {
                var at = line.IndexOf("\"step\":", StringComparison.Ordinal);
                if (at >= 0 && long.TryParse(line.AsSpan(at + 7, line.IndexOf(',', at) - at - 7), out var step))
                {
                    last = step;
                }
            }

            return last;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private static string[] Args(string output) =>
    [
        "train", "teacher", "--data", StageFixtures.CorpusPath, "--out", output, "--steps", Steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--seq-len", "32", "--batch-size", "4", "--vocab-size", "320", "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2",
        "--ffn", "64", "--checkpoint-every", "2", "--keep-last-n", "2", "--log-every", "1", "--eval-batches", "2", "--deterministic",
        "--heldout-fraction", "0.1", "--metrics-jsonl", Path.Combine(output, "metrics.jsonl"),
    ];
}
