using WrinkleFree.Jobs;
using WrinkleFree.Jobs.Checkpoints;

namespace WrinkleFree.Jobs.Tests;

public sealed class TaskSpecParserTests
{
    [Fact]
    public void Parse_TrainTask_ReadsStageSettingsCheckpointAndRecovery()
    {
        var spec = TaskSpecParser.Parse("""
            name: distill
            resources:
              cpus: 2+
              use_spot: true
              job_recovery:
                strategy: FAILOVER
                max_restarts_on_errors: 3
            envs:
              SEED: 7
            train:
              stage: stage1.9
              teacher: models/teacher
              max_steps: 2000
              subln: true
              data: [a.txt, b.txt]
            checkpoint:
              store: s3://bucket/runs/distill
              mode: MOUNT_CACHED
              every_steps: 100
              keep_last_n: 3
            """);

        Assert.Equal("distill", spec.Name);
        Assert.Equal("stage1.9", spec.Stage);
        Assert.Equal("7", spec.Envs["SEED"]);
        Assert.Equal(new RecoverySpec { Strategy = "FAILOVER", MaxRestartsOnErrors = 3 }, spec.Recovery);
        Assert.Equal(new CheckpointSpec { Store = "s3://bucket/runs/distill", Mode = CheckpointMode.MountCached, EverySteps = 100, KeepLastN = 3 }, spec.Checkpoint);
        Assert.Equal(
            ["train", "stage1.9", "--teacher", "models/teacher", "--max-steps", "2000", "--subln", "true", "--data", "a.txt", "--data", "b.txt",
             "--checkpoint-store", "s3://bucket/runs/distill", "--checkpoint-mode", "MOUNT_CACHED", "--checkpoint-every", "100", "--keep-last-n", "3"],
            TaskCommand.TrainArguments(spec.Train!, spec.Checkpoint));
    }

    [Fact]
    public void Parse_RunTaskWithTopLevelRecovery_Works()
    {
        var spec = TaskSpecParser.Parse("run: echo hi\njob_recovery:\n  max_restarts_on_errors: 2\n");
        Assert.Equal("echo hi", spec.Run);
        Assert.Null(spec.Train);
        Assert.Equal(2, spec.Recovery.MaxRestartsOnErrors);
        Assert.Equal("EAGER_NEXT_REGION", spec.Recovery.Strategy);
    }

    [Theory]
    [InlineData("run: x\nrsources: {}\n", "rsources", 2, 1, "did you mean 'resources'?")]
    [InlineData("run: x\ncheckpoint:\n  store: /tmp/c\n  mode: SOMETIMES\n", "checkpoint.mode", 4, 9, "must be one of COPY, MOUNT_CACHED")]
    [InlineData("run: x\ntrain:\n  stage: stage1\n", "train", 3, 3, "either run:")]
    [InlineData("name: x\n", "", 1, 1, "neither run:")]
    [InlineData("train:\n  stage: stage9\n", "train.stage", 2, 10, "must be one of teacher")]
    [InlineData("train:\n  lr: 0.1\n", "train.stage", 2, 3, "is required")]
    [InlineData("train:\n  stage: stage2\n  checkpoint_store: /x\n", "train.checkpoint_store", 3, 3, "checkpoint: section")]
    [InlineData("run: x\njob_recovery:\n  max_restarts_on_errors: -1\n", "job_recovery.max_restarts_on_errors", 3, 27, "at least 0")]
    [InlineData("run: x\njob_recovery: {strategy: SOMEWHERE}\n", "job_recovery.strategy", 2, 26, "EAGER_NEXT_REGION, FAILOVER")]
    [InlineData("run: x\nresources:\n  cpus: many\n", "resources.cpus", 3, 9, "positive number")]
    [InlineData("run: [x\n", "", 2, 1, "YAML syntax error")]
    public void Parse_BadTask_NamesKeyLineAndColumn(string yaml, string keyPath, int line, int column, string detail)
    {
        var error = Assert.Throws<TaskSpecException>(() => TaskSpecParser.Parse(yaml, "task.yaml"));
        Assert.Equal(keyPath, error.KeyPath);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(detail, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("task.yaml: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HundredThousandDeepSequence_TaskErrorNotStackOverflow()
    {
        var yaml = "run: echo\nenvs:\n  A: " + new string('[', 100_000);

        var error = Assert.Throws<TaskSpecException>(() => TaskSpecParser.Parse(yaml, "task.yaml"));

        Assert.Contains("deeper than 64 levels", error.Detail, StringComparison.Ordinal);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void JobStatusNames_AreSkyPilots()
    {
        Assert.Equal(
            ["PENDING", "STARTING", "RUNNING", "RECOVERING", "CANCELLING", "SUCCEEDED", "CANCELLED", "FAILED", "FAILED_SETUP", "FAILED_PRECHECKS", "FAILED_NO_RESOURCE", "FAILED_CONTROLLER"],
            Enum.GetValues<JobStatus>().Select(s => s.ToName()).ToArray());
        Assert.All(Enum.GetValues<JobStatus>(), s => Assert.Equal(s, JobStatusNames.Parse(s.ToName())));
        Assert.False(JobStatus.Cancelling.IsTerminal());
        Assert.True(JobStatus.FailedController.IsTerminal());
    }
}
