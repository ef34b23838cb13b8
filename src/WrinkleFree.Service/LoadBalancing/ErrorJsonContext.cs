using System.Text.Json.Serialization;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>Source-generated serialization of the error body (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(OpenAiError.ErrorBody))]
internal sealed partial class ErrorJsonContext : JsonSerializerContext;
