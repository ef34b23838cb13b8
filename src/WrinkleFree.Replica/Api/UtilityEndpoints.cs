using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Replica.Api;

/// <summary>GET /v1/models and the llama.cpp-style POST /tokenize and /detokenize.</summary>
internal static class UtilityEndpoints
{
    public static async Task ModelsAsync(HttpContext http, ReplicaContext replica)
    {
        await WriteJsonAsync(http, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            w.WriteStartObject();
            w.WriteString("id", replica.Backend.ModelId);
            w.WriteString("object", "model");
            w.WriteNumber("created", replica.StartedAt.ToUnixTimeSeconds());
            w.WriteString("owned_by", "wrinklefree");
            if (replica.Backend.ContextLength is { } context)
            {
                // Both names clients read: llama.cpp-style context_length and vLLM's max_model_len.
                w.WriteNumber("context_length", context);
                w.WriteNumber("max_model_len", context);
            }
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public static async Task TokenizeAsync(HttpContext http, ReplicaContext replica)
    {
        string content;
        bool addSpecial, withPieces;
        using (var body = await JsonBody.ReadAsync(http, replica.Options.MaxRequestBodyBytes).ConfigureAwait(false))
        {
            var root = body.RootElement;
            content = RequestParser.OptionalString(root, "content") ?? throw ApiErrors.BadRequest("content is required (the text to tokenize)", "content");
            addSpecial = RequestParser.OptionalBool(root, "add_special") ?? false;
            withPieces = RequestParser.OptionalBool(root, "with_pieces") ?? false;
        }

        replica.CheckAccepting();
        var tokens = await replica.Backend.TokenizeAsync(content, addSpecial, http.RequestAborted).ConfigureAwait(false);
        var pieces = withPieces ? await Pieces(replica, tokens, http.RequestAborted).ConfigureAwait(false) : null;
        await WriteJsonAsync(http, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("tokens");
            for (var i = 0; i < tokens.Length; i++)
            {
                if (pieces is null)
                {
                    w.WriteNumberValue(tokens[i]);
                }
                else
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", tokens[i]);
                    w.WriteString("piece", pieces[i]);
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public static async Task DetokenizeAsync(HttpContext http, ReplicaContext replica)
    {
        int[] tokens;
        using (var body = await JsonBody.ReadAsync(http, replica.Options.MaxRequestBodyBytes).ConfigureAwait(false))
        {
            tokens = RequestParser.Field(body.RootElement, "tokens") is { } t
                ? RequestParser.TokenIds(t, "tokens")
                : throw ApiErrors.BadRequest("tokens is required (an array of token ids)", "tokens");
        }

        replica.CheckAccepting();
        var text = await replica.Backend.DetokenizeAsync(tokens, http.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(http, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("content", text);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static async Task<string[]> Pieces(ReplicaContext replica, int[] tokens, CancellationToken ct)
    {
        var pieces = new string[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            pieces[i] = await replica.Backend.DetokenizeAsync([tokens[i]], ct).ConfigureAwait(false);
        }

        return pieces;
    }

    public static async Task WriteJsonAsync(HttpContext http, int status, Action<Utf8JsonWriter> write)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        var writer = new Utf8JsonWriter(http.Response.BodyWriter);
        await using (writer.ConfigureAwait(false))
        {
            write(writer);
            await writer.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }
}
