using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests;

/// <summary>A `train:` job whose checkpoints go to a real s3rver in MOUNT_CACHED mode (local cache, background upload).</summary>
[Collection(S3rverCollection.Name)]
public sealed class TrainJobsS3Tests(S3rverFixture s3)
{
    [Fact]
    public async Task Launch_MountCachedS3_TrainerSigkilled_ResumesAndSucceedsOnlyWithCheckpointsInTheBucket()
    {
        var reference = TeacherJob.ReferenceWeightsAsync();
        await using var jobs = new JobsHarness("wf-train-jobs");
        var prefix = "jobs-e2e/" + Guid.NewGuid().ToString("N");
        // The endpoint and keys come from the task's envs: the trainer and the controller (checkpoint column) both use them.
        var envs = new Dictionary<string, string>
        {
            ["AWS_ENDPOINT_URL"] = s3.Endpoint,
            ["AWS_ACCESS_KEY_ID"] = "S3RVER",
            ["AWS_SECRET_ACCESS_KEY"] = "S3RVER",
            ["AWS_REGION"] = "us-east-1",
        };
        var id = await jobs.LaunchAsync(jobs.Write("teach-s3.yaml", TeacherJob.Task("teach-s3", $"s3://{S3rverFixture.Bucket}/{prefix}", "MOUNT_CACHED", envs)));
        var cache = Path.Combine(jobs.Home, "cache", "checkpoints", S3rverFixture.Bucket, prefix);

        var killed = await TrainJobsTests.KillTrainerAfterFirstCheckpointAsync(jobs, id, () => TrainJobsTests.Manifests(cache).Any());

        var done = await jobs.WaitForStatusAsync(id, "SUCCEEDED");
        Assert.Equal(1, done.GetProperty("recoveries").GetInt32());
        await TrainJobsTests.AssertRecoveredAsync(jobs, id, killed);

        // SUCCEEDED means flushed: the newest checkpoint is committed in the bucket, byte for byte the cached one.
        const long newest = TeacherJob.Steps - TeacherJob.CheckpointEvery;
        var keys = await s3.KeysAsync(prefix + "/");
        var manifests = keys.Where(k => k.EndsWith("/wf-checkpoint.json", StringComparison.Ordinal)).ToList();
        Assert.Contains($"{prefix}/checkpoint-{newest}/wf-checkpoint.json", manifests);
        Assert.True(manifests.Count <= TeacherJob.KeepLastN, $"keep_last_n {TeacherJob.KeepLastN} but the bucket holds {string.Join(", ", manifests)}");
        var cached = Path.Combine(cache, $"checkpoint-{newest}");
        foreach (var file in Directory.EnumerateFiles(cached, "*", SearchOption.AllDirectories))
        {
            var key = $"{prefix}/checkpoint-{newest}/{Path.GetRelativePath(cached, file).Replace(Path.DirectorySeparatorChar, '/')}";
            Assert.Contains(key, keys);
            Assert.Equal(await File.ReadAllBytesAsync(file), await s3.GetAsync(key));
        }

        Assert.Equal(newest, done.GetProperty("checkpoint_step").GetInt64());
        Assert.Equal(await reference, await File.ReadAllBytesAsync(Path.Combine(jobs.Directory, "out", "model.safetensors")));
    }
}
