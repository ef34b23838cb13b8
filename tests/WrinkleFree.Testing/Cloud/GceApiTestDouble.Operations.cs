using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Cloud;

public sealed partial class GceApiTestDouble
{
    private readonly Dictionary<(string Zone, string Name), OperationEntry> _operations = [];
    private readonly Dictionary<string, (string Zone, string Name)> _operationsByRequest = new(StringComparer.Ordinal);
    private long _nextOperation = 1;

    /// <summary>While set, operations go PENDING → RUNNING and stay there (a zone that never finishes an insert).</summary>
    public bool HoldOperations { get; set; }

    /// <summary>
    /// GCE takes a Spot instance back: its metadata server's instance/preempted turns TRUE (waking watchers), its
    /// process (if a runner started one) gets SIGTERM and, after its grace period, a kill, a DONE
    /// compute.instances.preempted operation is recorded in the zone, and the instance is TERMINATED or, as with
    /// instanceTerminationAction DELETE, <paramref name="deleteInstance"/> removes it. A standard VM cannot be preempted.
    /// </summary>
    public async Task PreemptAsync(string zone, string name, bool deleteInstance = false)
    {
        IAsyncDisposable? process;
        lock (_gate)
        {
            var entry = _instances.GetValueOrDefault((zone, name)) ?? throw new InvalidOperationException($"no instance {name} in {zone} to preempt");
            if (!IsSpot(entry.Json))
                throw new InvalidOperationException($"instance {name} in {zone} is not Spot/preemptible; GCE does not preempt it");
            process = entry.Process;
            entry.Process = null;
            MarkPreempted(zone, name);
            var operation = NewOperation(zone, "compute.instances.preempted", entry.Json, "DONE");
            operation.Json["statusMessage"] = "Instance was preempted.";
            operation.Json["user"] = "system";
            if (deleteInstance)
                _instances.Remove((zone, name));
            else
                entry.Json["status"] = "TERMINATED";
        }

        if (process is not null)
            await process.DisposeAsync();
    }

    /// <summary>The operations recorded in <paramref name="zone"/> (oldest first), as zoneOperations.get would return them now.</summary>
    public IReadOnlyList<JsonObject> Operations(string zone)
    {
        lock (_gate)
            return [.. _operations.Where(o => o.Key.Zone == zone).Select(o => (JsonObject)o.Value.Json.DeepClone())];
    }

    private OperationEntry NewOperation(string zone, string type, JsonObject target, string status)
    {
        var id = _nextOperation++;
        var name = $"operation-{_time.GetUtcNow().ToUnixTimeMilliseconds()}-{id:x8}";
        var now = Timestamp();
        var json = new JsonObject
        {
            ["kind"] = "compute#operation",
            ["id"] = (7_000_000_000_000_000_000 + id).ToString(CultureInfo.InvariantCulture),
            ["name"] = name,
            ["zone"] = ZoneLink(zone),
            ["operationType"] = type,
            ["targetLink"] = target["selfLink"]!.GetValue<string>(),
            ["targetId"] = target["id"]!.GetValue<string>(),
            ["status"] = status,
            ["user"] = "wf-test@" + Project + ".iam.gserviceaccount.com",
            ["progress"] = status == "DONE" ? 100 : 0,
            ["insertTime"] = now,
            ["startTime"] = now,
            ["selfLink"] = $"{ZoneLink(zone)}/operations/{name}",
        };
        if (status == "DONE")
            json["endTime"] = now;
        var entry = new OperationEntry(json, zone, target["name"]!.GetValue<string>());
        _operations[(zone, name)] = entry;
        return entry;
    }

    private async Task GetOperationAsync(HttpContext context, string zone, string name)
    {
        OperationEntry? entry;
        var boot = false;
        lock (_gate)
        {
            entry = _operations.GetValueOrDefault((zone, name));
            if (entry is not null)
            {
                switch (entry.Json["status"]!.GetValue<string>())
                {
                    case "PENDING":
                        entry.Json["status"] = "RUNNING";
                        entry.Json["progress"] = 50;
                        break;
                    case "RUNNING" when !entry.Finishing && !HoldOperations:
                        entry.Finishing = true;
                        boot = true;
                        break;
                }
            }
        }

        if (entry is null)
        {
            await WriteErrorAsync(context, HttpStatusCode.NotFound, "notFound", $"The resource 'projects/{Project}/zones/{zone}/operations/{name}' was not found");
            return;
        }

        if (boot)
            await FinishAsync(entry, _stopping.Token);
        JsonObject snapshot;
        lock (_gate)
            snapshot = (JsonObject)entry.Json.DeepClone();
        await WriteJsonAsync(context, snapshot);
    }

    /// <summary>An insert's operation turns DONE: with the injected error (and no instance), or with the instance booted.</summary>
    private async Task FinishAsync(OperationEntry operation, CancellationToken cancellationToken)
    {
        GceInstanceStart? start = null;
        lock (_gate)
        {
            if (operation.InsertError is { } error)
            {
                _instances.Remove((operation.Zone, operation.Target));
                operation.Json["error"] = new JsonObject
                {
                    ["errors"] = new JsonArray(new JsonObject { ["code"] = error.Code, ["message"] = error.Message }),
                };
                operation.Json["httpErrorStatusCode"] = error.Code.StartsWith("QUOTA", StringComparison.Ordinal) ? 403 : 503;
                operation.Json["httpErrorMessage"] = error.Code.StartsWith("QUOTA", StringComparison.Ordinal) ? "FORBIDDEN" : "SERVICE UNAVAILABLE";
            }
            else if (_instances.GetValueOrDefault((operation.Zone, operation.Target)) is { } instance)
            {
                instance.Json["status"] = "STAGING";
                _metadata[(operation.Zone, operation.Target)] = new MetadataEntry(UserData(instance.Json));
                if (Runner is not null)
                    start = new GceInstanceStart(operation.Target, operation.Zone, Labels(instance.Json), IsSpot(instance.Json), UserData(instance.Json), MetadataRoot(operation.Zone, operation.Target));
            }
        }

        if (start is not null)
        {
            GceRunningInstance running;
            try
            {
                running = await Runner!(start, cancellationToken);
            }
            catch (Exception e)
            {
                // A runner that cannot start its process is the test's bug: the insert fails saying so, not hanging RUNNING.
                lock (_gate)
                {
                    _instances.Remove((operation.Zone, operation.Target));
                    operation.Json["error"] = new JsonObject
                    {
                        ["errors"] = new JsonArray(new JsonObject { ["code"] = "TEST_DOUBLE_RUNNER_FAILED", ["message"] = e.ToString() }),
                    };
                    operation.Json["status"] = "DONE";
                    operation.Json["endTime"] = Timestamp();
                }

                return;
            }

            IAsyncDisposable? orphan = null;
            lock (_gate)
            {
                if (_instances.GetValueOrDefault((operation.Zone, operation.Target)) is { } instance)
                {
                    var nic = instance.Json["networkInterfaces"]![0]!;
                    nic["networkIP"] = running.NetworkIp;
                    if (nic["accessConfigs"] is JsonArray { Count: > 0 } access)
                        access[0]!["natIP"] = running.NetworkIp;
                    instance.Process = running.Process;
                }
                else
                {
                    // Deleted while it booted: nothing may keep running for it.
                    orphan = running.Process;
                }
            }

            if (orphan is not null)
                await orphan.DisposeAsync();
        }

        lock (_gate)
        {
            operation.Json["status"] = "DONE";
            operation.Json["progress"] = 100;
            operation.Json["endTime"] = Timestamp();
        }
    }

    private async Task ListOperationsAsync(HttpContext context, string zone)
    {
        var filter = GceFilter.Parse(context.Request.Query["filter"].ToString());
        List<JsonObject> matching;
        lock (_gate)
            matching = [.. _operations.Where(o => o.Key.Zone == zone && filter.Matches(o.Value.Json)).Select(o => (JsonObject)o.Value.Json.DeepClone())];
        await WriteJsonAsync(context, Page(context, matching, "compute#operationList", $"{ZoneLink(zone)}/operations"));
    }

    private sealed class OperationEntry(JsonObject json, string zone, string target)
    {
        public JsonObject Json { get; } = json;

        public string Zone { get; } = zone;

        /// <summary>The instance name the operation is about.</summary>
        public string Target { get; } = target;

        public GceInjectedError? InsertError { get; set; }

        /// <summary>Set by the GET that boots the instance, so a concurrent poll does not boot it twice.</summary>
        public bool Finishing { get; set; }
    }
}
