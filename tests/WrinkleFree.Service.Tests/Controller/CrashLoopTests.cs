using WrinkleFree.Service.Controller;
using WrinkleFree.Service.State;
using static WrinkleFree.Service.Tests.Controller.ControllerHarness;

namespace WrinkleFree.Service.Tests.Controller;

/// <summary>A replica that dies at once, as one with a wrong model path does: backoff, then FAILED with the cause, through real processes.</summary>
public sealed class CrashLoopTests
{
    private const string Spec = """
        service:
          readiness_probe:
            path: /health
            initial_delay_seconds: 60
          replicas: 1
          failure_policy:
            max_failures: 3
            window_seconds: 600
            initial_backoff_seconds: 1
            max_backoff_seconds: 2
        run: |
          echo "loading /nope.gguf"
          echo "error: the model failed to load: model file '/nope.gguf' does not exist" >&2
          exit 3
        """;

    [Fact]
    public async Task Replica_ExitsAtOnce_BacksOffThenServiceFailsWithTheReasonAndLaunchesNoMore()
    {
        await using var h = await CreateAsync("svc", Spec);
        var controller = await h.StartControllerAsync("svc");
        try
        {
            var failed = await h.WaitForAsync(controller, s => s.Status == ServiceController.FailedStatus, "the service to fail");
            Assert.Contains("3 replica failures within 600 s", failed.Failure, StringComparison.Ordinal);
            Assert.Contains("exited with code 3: the model failed to load: model file '/nope.gguf' does not exist", failed.Failure, StringComparison.Ordinal);

            // Given up: however many ticks pass, no fourth replica is launched.
            var tick = failed.Tick;
            await h.WaitForAsync(controller, s => s.Tick >= tick + 10, "ten more ticks");
            var all = await h.Store.ListReplicasAsync("svc", includeTerminated: true, CancellationToken.None);
            Assert.Equal([1, 2, 3], all.Select(r => r.ReplicaId));
            Assert.All(all, r => Assert.Equal("exited with code 3: the model failed to load: model file '/nope.gguf' does not exist", r.FailureReason));
            var events = await h.Store.ListEventsAsync("svc", 0, 1000, CancellationToken.None);
            var kinds = events.Select(e => e.Kind).ToList();
            // Each relaunch waited out the doubling backoff (1 s, then 2 s; the wait itself is CrashLoopGuardTests' on a fake clock).
            Assert.Equal([1.0, 2.0], events.Where(e => e.Kind == ServiceEventKinds.Backoff)
                .Select(e => System.Text.Json.JsonDocument.Parse(e.Details!).RootElement.GetProperty("delay_seconds").GetDouble()));
            Assert.Equal(3, kinds.Count(k => k == ServiceEventKinds.ReplicaFailed));
            Assert.Equal(2, kinds.Count(k => k == ServiceEventKinds.Backoff));
            Assert.Contains(events, e => e.Kind == ServiceEventKinds.Backoff && e.Message.Contains("next launch in 2 s", StringComparison.Ordinal));
            Assert.Single(events, e => e.Kind == ServiceEventKinds.ServiceFailed);
            Assert.Equal("FAILED", (await h.Store.GetServiceAsync("svc", CancellationToken.None))!.Status);

            // A controller restarted on the FAILED service stays failed and still launches nothing.
            await controller.DisposeAsync();
            controller = await h.StartControllerAsync("svc");
            var restarted = await h.WaitForAsync(controller, s => s.Tick >= 5, "five ticks after the restart");
            Assert.Equal(ServiceController.FailedStatus, restarted.Status);
            Assert.Contains("model file '/nope.gguf' does not exist", restarted.Failure, StringComparison.Ordinal);
            Assert.Equal(3, (await h.Store.ListReplicasAsync("svc", includeTerminated: true, CancellationToken.None)).Count);
        }
        finally
        {
            await controller.ShutdownAsync(CancellationToken.None).WaitAsync(Deadline);
            await controller.DisposeAsync();
        }
    }
}
