using System.Text.Json.Serialization;

namespace WrinkleFree.Serve.Providers;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReplicaHandle))]
internal sealed partial class ProviderJsonContext : JsonSerializerContext
{
}
