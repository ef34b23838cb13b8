using System.Globalization;
using System.Text;
using System.Xml.Linq;

namespace WrinkleFree.Testing.Cloud;

public sealed partial class Ec2ApiTestDouble
{
    private static readonly XNamespace Ns = Namespace;

    private async Task<XElement> RunInstancesAsync(Dictionary<string, string> fields)
    {
        var image = Required(fields, "ImageId");
        var type = Required(fields, "InstanceType");
        var zone = Required(fields, "Placement.AvailabilityZone");
        if (fields.GetValueOrDefault("MinCount") != "1" || fields.GetValueOrDefault("MaxCount") != "1")
            throw new Ec2Error("InvalidParameterValue", "this double starts exactly one instance per call (MinCount=MaxCount=1)");
        var token = fields.GetValueOrDefault("ClientToken") ?? "";
        var spot = fields.GetValueOrDefault("InstanceMarketOptions.MarketType") switch
        {
            null => false,
            "spot" => true,
            var other => throw new Ec2Error("InvalidParameterValue", $"Value ({other}) for parameter InstanceMarketOptions.MarketType is invalid."),
        };
        var userData = fields.GetValueOrDefault("UserData") is { } encoded ? Encoding.UTF8.GetString(Convert.FromBase64String(encoded)) : "";
        var tags = IndexedPairs(fields, "TagSpecification.1.Tag", "Key", "Value");
        if (fields.ContainsKey("TagSpecification.1.Tag.1.Key") && fields.GetValueOrDefault("TagSpecification.1.ResourceType") != "instance")
            throw new Ec2Error("InvalidParameterValue", "TagSpecification.1.ResourceType must be instance here");

        Instance instance;
        lock (_gate)
        {
            var existing = token.Length == 0 ? null : _instances.Values.FirstOrDefault(i => i.ClientToken == token);
            if (existing is not null)
            {
                if (existing.Zone != zone || existing.ImageId != image || existing.InstanceType != type)
                    throw new Ec2Error("IdempotentParameterMismatch", $"The client token {token} was used before with different parameters.");
                return RunAnswer(existing);
            }

            if (_zoneFailures.TryGetValue(zone, out var failure))
                throw new Ec2Error(failure.Code, failure.Message);
            instance = new Instance
            {
                Id = NextInstanceId(),
                Sequence = _instances.Count,
                ImageId = image,
                InstanceType = type,
                Zone = zone,
                ClientToken = token,
                Spot = spot,
                UserData = userData,
                Tags = tags,
                KeyName = fields.GetValueOrDefault("KeyName"),
                SubnetId = fields.GetValueOrDefault("SubnetId"),
                SecurityGroups = IndexedValues(fields, "SecurityGroupId"),
                PrivateIp = "127.0.0." + (_nextAddress++).ToString(CultureInfo.InvariantCulture),
                LaunchTime = _time.GetUtcNow(),
                State = "pending",
            };
            _instances[instance.Id] = instance;
        }

        var answer = RunAnswer(instance);
        // The instance boots after the answer is made, so the answer says pending as EC2's does.
        var process = Runner?.Invoke(new Ec2InstanceStart(instance.Id, instance.Zone, instance.PrivateIp, userData, tags));
        var ended = false;
        lock (_gate)
        {
            if (instance.State == "pending")
            {
                instance.State = "running";
                instance.Process = process;
            }
            else
            {
                ended = true;
            }
        }

        if (ended && process is not null)
            await process.DisposeAsync();
        return answer;
    }

    private XElement DescribeInstances(Dictionary<string, string> fields)
    {
        var ids = IndexedValues(fields, "InstanceId");
        var filters = new List<(string Name, List<string> Values)>();
        for (var n = 1; fields.TryGetValue($"Filter.{n}.Name", out var name); n++)
            filters.Add((name, IndexedValues(fields, $"Filter.{n}.Value")));
        List<XElement> items;
        lock (_gate)
        {
            var unknown = ids.FirstOrDefault(id => !_instances.ContainsKey(id));
            if (unknown is not null)
                throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{unknown}' does not exist");
            items = [.. _instances.Values
                .Where(i => ids.Count == 0 || ids.Contains(i.Id))
                .Where(i => filters.All(f => Matches(i, f.Name, f.Values)))
                .OrderBy(i => i.Sequence)
                .Select(i => new XElement(Ns + "item",
                    new XElement(Ns + "reservationId", "r-" + i.Id[2..]),
                    new XElement(Ns + "ownerId", "123456789012"),
                    new XElement(Ns + "groupSet"),
                    new XElement(Ns + "instancesSet", InstanceXml(i))))];
        }

        return new XElement(Ns + "DescribeInstancesResponse",
            new XElement(Ns + "requestId", Guid.NewGuid().ToString()),
            new XElement(Ns + "reservationSet", items));
    }

    private async Task<XElement> TerminateInstancesAsync(Dictionary<string, string> fields)
    {
        var ids = IndexedValues(fields, "InstanceId");
        if (ids.Count == 0)
            throw new Ec2Error("MissingParameter", "The request must contain the parameter InstanceId");
        var items = new List<XElement>();
        lock (_gate)
        {
            var unknown = ids.FirstOrDefault(id => !_instances.ContainsKey(id));
            if (unknown is not null)
                throw new Ec2Error("InvalidInstanceID.NotFound", $"The instance ID '{unknown}' does not exist");
        }

        foreach (var id in ids)
        {
            string previous;
            lock (_gate)
                previous = _instances[id].State;
            await EndAsync(id, "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
            items.Add(new XElement(Ns + "item",
                new XElement(Ns + "instanceId", id),
                StateXml("currentState", "terminated"),
                StateXml("previousState", previous)));
        }

        return new XElement(Ns + "TerminateInstancesResponse",
            new XElement(Ns + "requestId", Guid.NewGuid().ToString()),
            new XElement(Ns + "instancesSet", items));
    }

    private static bool Matches(Instance instance, string filter, List<string> values) => filter switch
    {
        _ when filter.StartsWith("tag:", StringComparison.Ordinal) => instance.Tags.TryGetValue(filter[4..], out var v) && values.Contains(v),
        "tag-key" => values.Any(instance.Tags.ContainsKey),
        "instance-state-name" => values.Contains(instance.State),
        "availability-zone" => values.Contains(instance.Zone),
        "client-token" => values.Contains(instance.ClientToken),
        _ => throw new Ec2Error("InvalidParameterValue", $"The filter '{filter}' is invalid (this double knows tag:KEY, tag-key, instance-state-name, availability-zone, client-token)"),
    };

    private XElement RunAnswer(Instance instance)
    {
        lock (_gate)
        {
            return new XElement(Ns + "RunInstancesResponse",
                new XElement(Ns + "requestId", Guid.NewGuid().ToString()),
                new XElement(Ns + "reservationId", "r-" + instance.Id[2..]),
                new XElement(Ns + "ownerId", "123456789012"),
                new XElement(Ns + "groupSet"),
                new XElement(Ns + "instancesSet", InstanceXml(instance)));
        }
    }

    private static XElement InstanceXml(Instance i) =>
        new(Ns + "item",
            new XElement(Ns + "instanceId", i.Id),
            new XElement(Ns + "imageId", i.ImageId),
            StateXml("instanceState", i.State),
            new XElement(Ns + "privateIpAddress", i.PrivateIp),
            i.KeyName is null ? null : new XElement(Ns + "keyName", i.KeyName),
            new XElement(Ns + "instanceType", i.InstanceType),
            new XElement(Ns + "launchTime", i.LaunchTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            new XElement(Ns + "placement", new XElement(Ns + "availabilityZone", i.Zone), new XElement(Ns + "tenancy", "default")),
            i.SubnetId is null ? null : new XElement(Ns + "subnetId", i.SubnetId),
            new XElement(Ns + "groupSet", i.SecurityGroups.Select(g => new XElement(Ns + "item", new XElement(Ns + "groupId", g)))),
            i.ReasonCode is null ? null : new XElement(Ns + "stateReason", new XElement(Ns + "code", i.ReasonCode), new XElement(Ns + "message", i.ReasonMessage)),
            i.Spot ? new XElement(Ns + "instanceLifecycle", "spot") : null,
            new XElement(Ns + "clientToken", i.ClientToken),
            new XElement(Ns + "tagSet", i.Tags.Select(t => new XElement(Ns + "item", new XElement(Ns + "key", t.Key), new XElement(Ns + "value", t.Value)))));

    private static XElement StateXml(string element, string state) =>
        new(Ns + element,
            new XElement(Ns + "code", state switch
            {
                "pending" => 0,
                "running" => 16,
                "shutting-down" => 32,
                "terminated" => 48,
                "stopping" => 64,
                _ => 80,
            }),
            new XElement(Ns + "name", state));

    private static string Required(Dictionary<string, string> fields, string name) =>
        fields.GetValueOrDefault(name) is { Length: > 0 } value ? value : throw new Ec2Error("MissingParameter", $"The request must contain the parameter {name}");

    // The Query protocol flattens a list as Name.1, Name.2, ...
    private static List<string> IndexedValues(Dictionary<string, string> fields, string prefix)
    {
        var values = new List<string>();
        for (var n = 1; fields.TryGetValue($"{prefix}.{n}", out var value); n++)
            values.Add(value);
        return values;
    }

    private static Dictionary<string, string> IndexedPairs(Dictionary<string, string> fields, string prefix, string key, string value)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var n = 1; fields.TryGetValue($"{prefix}.{n}.{key}", out var k); n++)
            pairs[k] = fields.GetValueOrDefault($"{prefix}.{n}.{value}") ?? "";
        return pairs;
    }

    private sealed class Instance
    {
        public required string Id { get; init; }

        public required int Sequence { get; init; }

        public required string ImageId { get; init; }

        public required string InstanceType { get; init; }

        public required string Zone { get; init; }

        public required string ClientToken { get; init; }

        public required bool Spot { get; init; }

        public required string UserData { get; init; }

        public required Dictionary<string, string> Tags { get; init; }

        public string? KeyName { get; init; }

        public string? SubnetId { get; init; }

        public required List<string> SecurityGroups { get; init; }

        public required string PrivateIp { get; init; }

        public required DateTimeOffset LaunchTime { get; init; }

        public required string State { get; set; }

        public string? ReasonCode { get; set; }

        public string? ReasonMessage { get; set; }

        public IAsyncDisposable? Process { get; set; }

        public Ec2InstanceView View() => new(Id, Zone, State, ReasonCode, PrivateIp, Spot, ClientToken, Tags);
    }
}
