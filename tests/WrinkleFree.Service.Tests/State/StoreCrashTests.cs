using System.Globalization;
using WrinkleFree.Service.State;

namespace WrinkleFree.Service.Tests.State;

/// <summary>A writer process SIGKILLed mid-loop leaves a sound database holding every commit it reported, each one whole.</summary>
public sealed class StoreCrashTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly TempHome _home = new();

    public void Dispose() => _home.Dispose();

    [Theory]
    [InlineData(5)]
    [InlineData(40)]
    [InlineData(120)]
    public async Task Store_WriterKilledMidLoop_KeepsEveryCommitWhole(int commitsBeforeKill)
    {
        var lastReported = 0;
        using (var writer = ChildProcessEntry.Start("store-writer", _home.StatePath))
        {
            try
            {
                while (lastReported < commitsBeforeKill)
                {
                    var line = await writer.StandardOutput.ReadLineAsync().WaitAsync(Deadline)
                        ?? throw new InvalidOperationException("writer exited early: " + await writer.StandardError.ReadToEndAsync());
                    lastReported = int.Parse(line, CultureInfo.InvariantCulture);
                }
            }
            finally
            {
                writer.Kill(); // SIGKILL, wherever the loop happens to be.
                await writer.WaitForExitAsync().WaitAsync(Deadline);
            }
        }

        using var store = await ServiceStore.OpenAsync(_home.StatePath, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        Assert.Equal("ok", await store.CheckIntegrityAsync(CancellationToken.None).WaitAsync(Deadline));
        var replicas = await store.ListReplicasAsync("crash", true, CancellationToken.None).WaitAsync(Deadline);
        var events = await store.ListEventsAsync("crash", 0, int.MaxValue, CancellationToken.None).WaitAsync(Deadline);
        var n = replicas.Count;

        // Every reported commit is there, ids are dense, and the id counter moved with the rows.
        Assert.True(n >= lastReported, $"{n} replicas stored, {lastReported} reported committed");
        Assert.Equal(Enumerable.Range(1, n), replicas.Select(r => r.ReplicaId));
        Assert.Equal(n.ToString(CultureInfo.InvariantCulture), ServiceStoreTests.SqliteScalar(_home.StatePath, "SELECT last_id FROM replica_ids WHERE service = 'crash'"));

        // Each iteration adds replica i, then flips (i READY, i-1 SHUTTING_DOWN) in one batch: no torn batch is visible.
        Assert.All(replicas.Take(Math.Max(0, n - 2)), r => Assert.Equal("SHUTTING_DOWN", r.Status));
        var tail = string.Join(",", replicas.Skip(Math.Max(0, n - 2)).Select(r => r.Status));
        Assert.Contains(tail, new[] { "SHUTTING_DOWN,READY", "READY,PROVISIONING", "READY", "PROVISIONING" });

        // Each row change brought exactly its events.
        foreach (var replica in replicas)
        {
            var mine = events.Where(e => e.ReplicaId == replica.ReplicaId).Select(e => e.Kind).ToList();
            var expectedStatusEvents = replica.Status switch { "PROVISIONING" => 0, "READY" => 1, _ => 2 };
            Assert.Equal(1, mine.Count(k => k == ServiceEventKinds.ReplicaAdded));
            Assert.Equal(expectedStatusEvents, mine.Count(k => k == ServiceEventKinds.ReplicaStatus));
            Assert.Equal(replica.Status == "PROVISIONING" ? null : $"{{\"i\":{replica.ReplicaId}}}", replica.Handle);
        }
    }

    /// <summary>The child's loop: one add and one two-row batch per iteration, reporting each finished iteration.</summary>
    internal static async Task RunWriterAsync(string[] args)
    {
        using var store = await ServiceStore.OpenAsync(args[0], TimeProvider.System, null, CancellationToken.None);
        await store.CreateServiceAsync("crash", "run: x", "READY", CancellationToken.None);
        ReplicaRecord? previous = null;
        for (var i = 1; ; i++)
        {
            var added = await store.AddReplicaAsync(
                new NewReplica { Service = "crash", Version = 1, Tier = "base", Provider = "local", Status = "PROVISIONING" },
                CancellationToken.None);
            var batch = new List<ReplicaRecord> { added with { Status = "READY", Handle = $"{{\"i\":{added.ReplicaId}}}" } };
            if (previous is not null)
            {
                batch.Add(previous with { Status = "SHUTTING_DOWN" });
            }

            var written = await store.UpdateReplicasAsync(batch, "iteration " + i, CancellationToken.None);
            previous = written[0];
            Console.Out.WriteLine(i.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
        }
    }
}
