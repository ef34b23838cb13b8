using System.Text.Json.Serialization;

namespace WrinkleFree.Service.Daemon;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(DaemonInfo))]
[JsonSerializable(typeof(ServiceView))]
[JsonSerializable(typeof(List<ServiceView>))]
[JsonSerializable(typeof(CreateServiceRequest))]
[JsonSerializable(typeof(UpdateServiceRequest))]
[JsonSerializable(typeof(List<ServiceEventView>))]
[JsonSerializable(typeof(Security.NewApiKey))]
[JsonSerializable(typeof(Security.ApiKeyRecord))]
[JsonSerializable(typeof(List<Security.ApiKeyRecord>))]
[JsonSerializable(typeof(CreatedApiKey))]
[JsonSerializable(typeof(StatusLink))]
[JsonSerializable(typeof(Cost.CostReport))]
internal sealed partial class DaemonJsonContext : JsonSerializerContext
{
}
