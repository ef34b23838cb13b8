using System.Globalization;
using System.Text;
using WrinkleFree.Testing;
using WrinkleFree.Testing.Training;

namespace WrinkleFree.Cli.Tests;

/// <summary>
/// One tiny, deterministic `wf train teacher` run, written both as a task file's <c>train:</c> section and as the plain
/// command line of the uninterrupted reference run, so a managed job and the reference cannot drift apart.
/// </summary>
internal static class TeacherJob
{
    public const int Steps = 80;
    public const int CheckpointEvery = 4;
    public const int KeepLastN = 2;

    // 80 steps with a checkpoint every 4 leaves several seconds of training after the first checkpoint for the kill.
    private static readonly Lazy<Task<byte[]>> Reference = new(RunReferenceAsync);

    /// <summary>The trainer settings, as (task-file key, value) pairs; keys become `--key-with-dashes value`.</summary>
    public static IReadOnlyList<(string Key, string Value)> Settings(long steps = Steps) =>
    [
        ("data", TestCorpus.TwelveDocuments), ("steps", steps.ToString(CultureInfo.InvariantCulture)), ("seq_len", "32"), ("batch_size", "4"),
        ("vocab_size", "320"), ("hidden", "32"), ("layers", "2"), ("heads", "4"), ("kv_heads", "2"), ("ffn", "64"), ("log_every", "1"),
        ("eval_batches", "2"), ("heldout_fraction", "0.1"), ("deterministic", "true"),
    ];

    /// <summary>The final model.safetensors of an uninterrupted run (computed once per test process).</summary>
    public static Task<byte[]> ReferenceWeightsAsync() => Reference.Value;

    /// <summary>A task file: the teacher stage writing to <paramref name="output"/> (in the workdir), checkpoints in <paramref name="store"/>.</summary>
    public static string Task(string name, string store, string? mode = null, IReadOnlyDictionary<string, string>? envs = null,
        IEnumerable<(string Key, string Value)>? settings = null, int maxRestarts = 2, string? workdir = null, string output = "out", string? resources = null)
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"name: {name}\n");
        if (resources is not null)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"resources: {resources}\n");
        }

        if (workdir is not null)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"workdir: {workdir}\n");
        }

        if (envs is not null)
        {
            yaml.Append("envs:\n");
            foreach (var (key, value) in envs)
            {
                yaml.Append(CultureInfo.InvariantCulture, $"  {key}: '{value}'\n");
            }
        }

        yaml.Append(CultureInfo.InvariantCulture, $"train:\n  stage: teacher\n  out: '{output}'\n");
        foreach (var (key, value) in settings ?? Settings())
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {key}: '{value}'\n");
        }

        yaml.Append(CultureInfo.InvariantCulture, $"checkpoint:\n  store: '{store}'\n  every_steps: {CheckpointEvery}\n  keep_last_n: {KeepLastN}\n");
        if (mode is not null)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  mode: {mode}\n");
        }

        yaml.Append(CultureInfo.InvariantCulture, $"job_recovery:\n  max_restarts_on_errors: {maxRestarts}\n");
        return yaml.ToString();
    }

    private static async Task<byte[]> RunReferenceAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), "wf-cli-tests", "teacher-reference-" + Guid.NewGuid().ToString("N"));
        var args = new List<string> { "train", "teacher", "--out", output, "--checkpoint-every", CheckpointEvery.ToString(CultureInfo.InvariantCulture),
            "--keep-last-n", KeepLastN.ToString(CultureInfo.InvariantCulture) };
        foreach (var (key, value) in Settings())
        {
            args.AddRange(["--" + key.Replace('_', '-'), value]);
        }

        try
        {
            var (code, _, stderr) = await WfBuild.Full.RunAsync(args, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, $"the uninterrupted reference run failed ({code}): {stderr}");
            return await File.ReadAllBytesAsync(Path.Combine(output, "model.safetensors"));
        }
        finally
        {
            try
            {
                Directory.Delete(output, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
