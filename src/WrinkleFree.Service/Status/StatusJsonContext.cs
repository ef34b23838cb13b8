using System.Text.Json.Serialization;

namespace WrinkleFree.Service.Status;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StatusData))]
internal sealed partial class StatusJsonContext : JsonSerializerContext
{
}
