using System.Text.Json.Serialization;

namespace WrinkleFree.Providers.Ssh;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(List<PendingStop>))]
internal sealed partial class SshJsonContext : JsonSerializerContext
{
}
