using System.Text.Json.Serialization;

namespace WrinkleFree.Service.Providers;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReplicaHandle))]
internal sealed partial class ProviderJsonContext : JsonSerializerContext
{
}
