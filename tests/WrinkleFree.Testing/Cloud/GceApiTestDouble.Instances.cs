using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Cloud;

public sealed partial class GceApiTestDouble
{
    private readonly Dictionary<(string Zone, string Name), InstanceEntry> _instances = [];
    private readonly Dictionary<string, GceInjectedError> _insertErrors = new(StringComparer.Ordinal);
    private readonly List<(string Zone, JsonObject Body)> _inserted = [];
    private long _nextId = 4_100_000_000_000_000_000;
    private int _nextAddress = 2;

    /// <summary>Every instances.insert body accepted so far (retries included), as the client sent it.</summary>
    public IReadOnlyList<(string Zone, JsonObject Body)> InsertRequests
    {
        get
        {
            lock (_gate)
                return [.. _inserted.Select(i => (i.Zone, (JsonObject)i.Body.DeepClone()))];
        }
    }

    /// <summary>Every instance insert in <paramref name="zone"/> fails with <paramref name="error"/> until <see cref="ClearInsertError"/>.</summary>
    public void InjectInsertError(string zone, GceInjectedError error)
    {
        lock (_gate)
            _insertErrors[zone] = error;
    }

    public void ClearInsertError(string zone)
    {
        lock (_gate)
            _insertErrors.Remove(zone);
    }

    /// <summary>The instance as instances.get would return it now; null when it does not exist.</summary>
    public JsonObject? Instance(string zone, string name)
    {
        lock (_gate)
            return _instances.TryGetValue((zone, name), out var entry) ? (JsonObject)entry.Json.DeepClone() : null;
    }

    /// <summary>The names of the instances in <paramref name="zone"/>, sorted.</summary>
    public IReadOnlyList<string> InstanceNames(string zone)
    {
        lock (_gate)
            return [.. _instances.Keys.Where(k => k.Zone == zone).Select(k => k.Name).Order(StringComparer.Ordinal)];
    }

    /// <summary>Sets an instance's status (STOPPING, SUSPENDED, TERMINATED...) and statusMessage, as GCE would on its own.</summary>
    public void SetStatus(string zone, string name, string status, string? statusMessage = null)
    {
        lock (_gate)
        {
            var entry = _instances.GetValueOrDefault((zone, name)) ?? throw new InvalidOperationException($"no instance {name} in {zone}");
            entry.Json["status"] = status;
            if (statusMessage is null)
                entry.Json.Remove("statusMessage");
            else
                entry.Json["statusMessage"] = statusMessage;
        }
    }

    private async Task InsertAsync(HttpContext context, string zone)
    {
        var requestId = context.Request.Query["requestId"].ToString();
        if (requestId.Length > 0 && (!Guid.TryParse(requestId, out var parsed) || parsed == Guid.Empty))
            throw new FormatException($"Invalid value for field 'requestId': '{requestId}'. The request id must be a valid UUID with the exception that zero UUID is not supported.");
        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject
            ?? throw new FormatException("Invalid JSON payload received: the body is not an object.");
        var name = body["name"]?.GetValue<string>() ?? throw new FormatException("Invalid value for field 'resource.name': ''. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
        if (!InstanceName().IsMatch(name))
            throw new FormatException($"Invalid value for field 'resource.name': '{name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{{0,61}}[a-z0-9])?)'");
        var machineType = body["machineType"]?.GetValue<string>() ?? "";
        if (!machineType.StartsWith($"zones/{zone}/machineTypes/", StringComparison.Ordinal) && !machineType.Contains($"/zones/{zone}/machineTypes/", StringComparison.Ordinal))
            throw new FormatException($"Invalid value for field 'resource.machineType': '{machineType}'. Machine type must be in zone {zone}.");
        if (body["disks"]?[0]?["initializeParams"]?["sourceImage"] is null)
            throw new FormatException("Invalid value for field 'resource.disks[0].initializeParams.sourceImage': ''. A boot disk needs a source image.");
        if (body["networkInterfaces"] is not JsonArray { Count: > 0 })
            throw new FormatException("Invalid value for field 'resource.networkInterfaces': ''. At least one network interface is required.");

        JsonObject? operation = null;
        (HttpStatusCode Status, string Reason, string Message, string Domain)? failure = null;
        lock (_gate)
        {
            if (requestId.Length > 0 && _operationsByRequest.TryGetValue(requestId, out var earlier))
            {
                // GCE answers a repeated requestId with the first request's operation, creating nothing.
                operation = (JsonObject)_operations[earlier].Json.DeepClone();
            }
            else
            {
                _insertErrors.TryGetValue(zone, out var injected);
                if (injected is { HttpStatus: { } status })
                    failure = ((HttpStatusCode)status, injected.Code, injected.Message, "usageLimits");
                else if (_instances.ContainsKey((zone, name)))
                    failure = (HttpStatusCode.Conflict, "alreadyExists", $"The resource 'projects/{Project}/zones/{zone}/instances/{name}' already exists", "global");
                else
                    operation = Insert(zone, name, requestId, body, injected);
            }
        }

        if (failure is { } f)
            await WriteErrorAsync(context, f.Status, f.Reason, f.Message, f.Domain);
        else
            await WriteJsonAsync(context, operation!);
    }

    private JsonObject Insert(string zone, string name, string requestId, JsonObject body, GceInjectedError? injected)
    {
        _inserted.Add((zone, (JsonObject)body.DeepClone()));
        var instance = NewInstance(zone, name, body);
        _instances[(zone, name)] = new InstanceEntry(instance);
        var entry = NewOperation(zone, "insert", instance, "PENDING");
        entry.InsertError = injected;
        if (requestId.Length > 0)
            _operationsByRequest[requestId] = (zone, entry.Json["name"]!.GetValue<string>());
        return (JsonObject)entry.Json.DeepClone();
    }

    private JsonObject NewInstance(string zone, string name, JsonObject body)
    {
        var instance = (JsonObject)body.DeepClone();
        var address = _nextAddress++;
        instance["kind"] = "compute#instance";
        instance["id"] = (_nextId++).ToString(CultureInfo.InvariantCulture);
        instance["creationTimestamp"] = Timestamp();
        instance["zone"] = ZoneLink(zone);
        instance["selfLink"] = $"{ZoneLink(zone)}/instances/{name}";
        instance["status"] = "PROVISIONING";
        instance["machineType"] = $"{ZoneLink(zone)}/machineTypes/{body["machineType"]!.GetValue<string>().Split('/')[^1]}";
        var nic = (JsonObject)instance["networkInterfaces"]![0]!;
        nic["kind"] = "compute#networkInterface";
        nic["name"] = "nic0";
        nic["networkIP"] = $"10.128.0.{address}";
        if (nic["accessConfigs"] is JsonArray { Count: > 0 } access)
            access[0]!["natIP"] = $"34.118.0.{address}";
        return instance;
    }

    private async Task GetAsync(HttpContext context, string zone, string name)
    {
        JsonObject? found = null;
        lock (_gate)
        {
            if (_instances.TryGetValue((zone, name), out var entry))
            {
                found = (JsonObject)entry.Json.DeepClone();
                // A booted VM is STAGING for one look, then RUNNING: a client sees both without waiting on a clock.
                if (entry.Json["status"]?.GetValue<string>() == "STAGING")
                    entry.Json["status"] = "RUNNING";
            }
        }

        if (found is null)
            await WriteErrorAsync(context, HttpStatusCode.NotFound, "notFound", $"The resource 'projects/{Project}/zones/{zone}/instances/{name}' was not found");
        else
            await WriteJsonAsync(context, found);
    }

    private async Task ListAsync(HttpContext context, string zone)
    {
        var filter = GceFilter.Parse(context.Request.Query["filter"].ToString());
        List<JsonObject> matching;
        lock (_gate)
        {
            matching = [.. _instances.Where(i => i.Key.Zone == zone && filter.Matches(i.Value.Json))
                .OrderBy(i => i.Key.Name, StringComparer.Ordinal).Select(i => (JsonObject)i.Value.Json.DeepClone())];
        }

        await WriteJsonAsync(context, Page(context, matching, "compute#instanceList", $"{ZoneLink(zone)}/instances"));
    }

    private async Task AggregatedListAsync(HttpContext context)
    {
        var filter = GceFilter.Parse(context.Request.Query["filter"].ToString());
        var items = new JsonObject();
        lock (_gate)
        {
            foreach (var zone in Zones)
            {
                var instances = _instances.Where(i => i.Key.Zone == zone && filter.Matches(i.Value.Json))
                    .OrderBy(i => i.Key.Name, StringComparer.Ordinal).Select(i => (JsonNode)i.Value.Json.DeepClone()).ToArray();
                items["zones/" + zone] = instances.Length > 0
                    ? new JsonObject { ["instances"] = new JsonArray(instances) }
                    : new JsonObject { ["warning"] = new JsonObject { ["code"] = "NO_RESULTS_ON_PAGE", ["message"] = "There are no results for scope 'zones/" + zone + "' on this page." } };
            }
        }

        await WriteJsonAsync(context, new JsonObject
        {
            ["kind"] = "compute#instanceAggregatedList",
            ["items"] = items,
            ["selfLink"] = $"{LinkRoot}projects/{Project}/aggregated/instances",
        });
    }

    private async Task DeleteAsync(HttpContext context, string zone, string name)
    {
        JsonObject? operation = null;
        IAsyncDisposable? process = null;
        lock (_gate)
        {
            if (_instances.Remove((zone, name), out var entry))
            {
                process = entry.Process;
                entry.Process = null;
                operation = (JsonObject)NewOperation(zone, "delete", entry.Json, "DONE").Json.DeepClone();
            }
        }

        if (operation is null)
        {
            await WriteErrorAsync(context, HttpStatusCode.NotFound, "notFound", $"The resource 'projects/{Project}/zones/{zone}/instances/{name}' was not found");
            return;
        }

        if (process is not null)
            await process.DisposeAsync();
        await WriteJsonAsync(context, operation);
    }

    /// <summary>One page of <paramref name="items"/> by the pageToken (an offset here) and <see cref="PageSize"/>.</summary>
    private JsonObject Page(HttpContext context, List<JsonObject> items, string kind, string selfLink)
    {
        var token = context.Request.Query["pageToken"].ToString();
        var offset = 0;
        if (token.Length > 0 && (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > items.Count))
            throw new FormatException($"Invalid value for field 'pageToken': '{token}'.");
        var page = items.Skip(offset).Take(PageSize).Select(i => (JsonNode)i).ToArray();
        var result = new JsonObject { ["kind"] = kind, ["selfLink"] = selfLink };
        if (page.Length > 0)
            result["items"] = new JsonArray(page);
        if (offset + page.Length < items.Count)
            result["nextPageToken"] = (offset + page.Length).ToString(CultureInfo.InvariantCulture);
        return result;
    }

    private static bool IsSpot(JsonObject instance) =>
        instance["scheduling"]?["provisioningModel"]?.GetValue<string>() == "SPOT" || instance["scheduling"]?["preemptible"]?.GetValue<bool>() == true;

    private static string UserData(JsonObject instance) =>
        (instance["metadata"]?["items"] as JsonArray)?.FirstOrDefault(i => i?["key"]?.GetValue<string>() == "user-data")?["value"]?.GetValue<string>() ?? "";

    private static Dictionary<string, string> Labels(JsonObject instance) =>
        instance["labels"] is JsonObject labels ? labels.ToDictionary(l => l.Key, l => l.Value!.GetValue<string>(), StringComparer.Ordinal) : [];

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex InstanceName();

    private sealed class InstanceEntry(JsonObject json)
    {
        public JsonObject Json { get; } = json;

        public IAsyncDisposable? Process { get; set; }
    }
}
