using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Replica.Api;

/// <summary>Reads a request body as one JSON object, turning every way it can be wrong into a precise 4xx.</summary>
internal static class JsonBody
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static async Task<JsonDocument> ReadAsync(HttpContext context, long maxBytes)
    {
        var request = context.Request;
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        var reader = request.BodyReader;
        ReadResult result;
        try
        {
            while (true)
            {
                result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                if (result.Buffer.Length > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }

                if (result.IsCompleted)
                {
                    break;
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(maxBytes);
        }
        catch (IOException e) when (e is not BadHttpRequestException && !context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports some broken framing as an IOException (a chunk size that overflows: found by the hostile
            // request suite); the client is still there and gets a 400 rather than a 500.
            throw ApiErrors.BadRequest($"the request body could not be read: {e.Message}", null, "invalid_body");
        }

        // JsonDocument keeps reading the memory it was parsed from for its whole lifetime, and the pipe reuses its buffers
        // once advanced past: the document must own a copy.
        var body = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        return Parse(body);
    }

    /// <summary>Parses a whole body (internal: the fuzz harness feeds it bytes directly).</summary>
    internal static JsonDocument Parse(byte[] body)
    {
        if (body.Length == 0)
        {
            throw ApiErrors.BadRequest("the request body is empty; send a JSON object", null, "invalid_json");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.AsMemory(), Options);
        }
        catch (JsonException e)
        {
            // LineNumber and BytePositionInLine are zero-based; people count from one.
            var where = e.LineNumber is { } line ? $" at line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "";
            throw ApiErrors.BadRequest($"the request body is not valid JSON{where}: {FirstSentence(e.Message)}", null, "invalid_json");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw ApiErrors.BadRequest($"the request body must be a JSON object, not {kind.ToString().ToLowerInvariant()}", null, "invalid_json");
        }

        try
        {
            CheckText(document.RootElement, "");
        }
        catch
        {
            document.Dispose();
            throw;
        }

        return document;
    }

    /// <summary>
    /// The parser accepts invalid UTF-8 bytes and escaped lone surrogates ("\ud800") inside strings; they fail only when a
    /// string is read, deep in a handler, as a 500. Every string and name is read once here so that any field, known or
    /// not, is a 400 naming it. Depth is bounded by the parse (MaxDepth 64).
    /// </summary>
    private static void CheckText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                Read(path, () => element.GetString());
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = Read(path.Length == 0 ? "a field name" : $"a field name in {path}", () => property.Name);
                    CheckText(property.Value, path.Length == 0 ? name : $"{path}.{name}");
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckText(item, $"{path}[{i++}]");
                }

                break;
        }
    }

    private static string Read(string where, Func<string?> read)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            var cut = where.IndexOfAny(['.', '[']);
            throw ApiErrors.BadRequest(
                $"{where} is not valid text: it holds invalid UTF-8 or an unpaired UTF-16 surrogate escape (such as \\ud800); send valid Unicode",
                where.StartsWith("a field name", StringComparison.Ordinal) ? null : cut > 0 ? where[..cut] : where, "invalid_encoding");
        }
    }

    private static Backends.BackendException TooLarge(long maxBytes) =>
        new(413, "invalid_request_error", $"the request body is larger than the replica accepts ({maxBytes} bytes)", null, "request_too_large");

    private static string FirstSentence(string message)
    {
        // System.Text.Json appends "Path: ... | LineNumber: ..." in its own zero-based terms; the position is given above.
        foreach (var marker in (ReadOnlySpan<string>)[" Path:", " LineNumber:"])
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }
        }

        return message;
    }
}
