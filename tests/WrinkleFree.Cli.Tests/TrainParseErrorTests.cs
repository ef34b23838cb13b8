namespace WrinkleFree.Cli.Tests;

/// <summary>
/// System.CommandLine's own parse errors under <c>wf train</c> must exit 64 (configuration error, the job runner does not
/// retry) rather than the parser's 1; elsewhere the parser's code stays.
/// </summary>
public sealed class TrainParseErrorTests
{
    [Fact]
    public async Task TrainParseErrors_ExitConfigurationError64()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-cli-tests", Guid.NewGuid().ToString("N"));

        // A value missing at the end of the line: the parser's "Required argument missing".
        var missingValue = await WfProcess.RunAsync("train", "stage2", "--model", dir, "--out", dir, "--steps");
        Assert.True(missingValue.ExitCode == 64, $"exit {missingValue.ExitCode}: {missingValue.Stderr}");
        Assert.Contains("--steps", missingValue.Stderr, StringComparison.Ordinal);

        // An unknown option on a stage command.
        var unknown = await WfProcess.RunAsync("train", "stage3", "--model", dir, "--teacher", dir, "--out", dir, "--no-such-option", "1");
        Assert.True(unknown.ExitCode == 64, $"exit {unknown.ExitCode}: {unknown.Stderr}");
        Assert.Contains("--no-such-option", unknown.Stderr, StringComparison.Ordinal);

        // A required option missing, and a value outside the allowed set, on the parser-validated commands.
        var required = await WfProcess.RunAsync("train", "stage1", "--teacher", dir);
        Assert.True(required.ExitCode == 64, $"exit {required.ExitCode}: {required.Stderr}");
        Assert.Contains("--out", required.Stderr, StringComparison.Ordinal);
        var badType = await WfProcess.RunAsync("train", "export", "--checkpoint", dir, "--out", Path.Combine(dir, "x.gguf"), "--type", "q4_0");
        Assert.True(badType.ExitCode == 64, $"exit {badType.ExitCode}: {badType.Stderr}");

        // Outside wf train the parser's exit code is unchanged.
        var other = await WfProcess.RunAsync("generate", "--no-such-option");
        Assert.Equal(1, other.ExitCode);
    }

    /// <summary>
    /// A checkpoint store wf cannot open is a configuration error on one line (no stack trace), caught before OUT is created:
    /// an unsupported scheme lists the supported ones, and an incomplete gs://, az:// or r2:// URL names the missing part.
    /// </summary>
    [Theory]
    [InlineData("hdfs://namenode/ckpt", "is not supported; use a folder path, s3://bucket/prefix, r2://ACCOUNT/bucket/prefix, gs://bucket/prefix or az://account/container/prefix")]
    [InlineData("gs://", "has no bucket name; write gs://BUCKET/PREFIX")]
    [InlineData("az://account", "has no container name; write az://ACCOUNT/CONTAINER/PREFIX")]
    [InlineData("r2:///bucket", "has no account name; write r2://ACCOUNT/BUCKET/PREFIX")]
    public async Task TrainCheckpointStore_Unusable_ExitsConfigurationErrorCreatingNothing(string store, string message)
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-cli-tests", Guid.NewGuid().ToString("N"));
        var run = await WfProcess.RunAsync("train", "stage2", "--model", dir, "--out", Path.Combine(dir, "out"), "--checkpoint-store", store);
        Assert.True(run.ExitCode == 64, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Equal($"error: checkpoint store '{store}' {message}", run.Stderr.Trim());
        Assert.False(Directory.Exists(dir));
    }

    /// <summary>
    /// The stage options are typed and range-checked by the parser: a bad value is a configuration error whose one line
    /// names the option and the value; the named values (schedule, checkpoint mode) take either case, as task files spell them.
    /// </summary>
    [Fact]
    public async Task TrainOptions_OutOfRange_ConfigurationErrorNamingTheOption()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-cli-tests", Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var (option, value, message) in new[]
            {
                ("--steps", "0", "--steps must be positive, got 0"),
                ("--lr", "-1", "--lr must be positive, got -1"),
                ("--lr", "1e-3x", "--lr '1e-3x' is not a valid number"),
                ("--heldout-fraction", "0.7", "--heldout-fraction must be in [0, 0.5), got 0.7"),
                ("--metrics-port", "70000", "--metrics-port must be 1..65535, got 70000"),
                ("--schedule", "linear", "--schedule 'linear': use cosine, wsd or constant"),
            })
            {
                var run = await WfProcess.RunAsync("train", "stage2", "--model", dir, "--out", dir, option, value);
                Assert.True(run.ExitCode == 64, $"{option} {value}: exit {run.ExitCode}: {run.Stderr}");
                Assert.Equal("error: " + message, run.Stderr.Trim());
            }

            // Accepted: the run gets as far as the (missing) checkpoint, which is what it then reports.
            var upper = await WfProcess.RunAsync("train", "stage2", "--model", dir, "--out", dir, "--schedule", "WSD", "--checkpoint-mode", "MOUNT_CACHED", "--steps", "3");
            Assert.True(upper.ExitCode == 64, $"exit {upper.ExitCode}: {upper.Stderr}");
            Assert.Contains("--model", upper.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("--schedule", upper.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("--checkpoint-mode", upper.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
