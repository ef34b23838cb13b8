using System.Text.Json.Serialization;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>Source-generated JSON for the Compute Engine REST calls: camelCase as the API writes it, nulls left out of requests.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(GceInstance))]
[JsonSerializable(typeof(GceInstanceList))]
[JsonSerializable(typeof(GceInstanceAggregatedList))]
[JsonSerializable(typeof(GceOperation))]
[JsonSerializable(typeof(GceOperationList))]
[JsonSerializable(typeof(GceErrorResponse))]
internal sealed partial class GceJsonContext : JsonSerializerContext;
