using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Jobs.Tests.Checkpoints;

/// <summary>
/// A TEST DOUBLE of the Google Cloud Storage JSON API, hosted by Kestrel on a free loopback port, with one bucket held in
/// memory. No real GCS server runs here, so this serves exactly the calls the gs:// store makes through the real
/// StorageClient: objects insert (resumable, as the client uploads; media too), get (metadata and alt=media), list with
/// prefix and pageToken (pages of 3, so the client must follow tokens), and delete. Anything else answers 501 and is recorded.
/// </summary>
public sealed partial class GcsJsonApiDouble : IAsyncLifetime
{
    public const string Bucket = "wf-checkpoints";

    private const int PageSize = 3;

    private readonly ConcurrentDictionary<string, StoredObject> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Upload> _uploads = new(StringComparer.Ordinal);
    private WebApplication? _app;

    public string Endpoint { get; private set; } = "";

    /// <summary>Requests the double does not serve or failed on; a test failing oddly should look here first.</summary>
    public ConcurrentQueue<string> Unserved { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(async context =>
        {
            try
            {
                await ServeAsync(context);
            }
            catch (Exception e)
            {
                // Kestrel would answer a bare 500; keep what broke so a failing test can say it.
                Unserved.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}: {e}");
                if (!context.Response.HasStarted)
                {
                    await ErrorAsync(context, 500, $"the GCS test double failed: {e.GetType().Name}: {e.Message}");
                }
            }
        });
        await _app.StartAsync();
        Endpoint = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        // The client percent-encodes '/' in object names; Request.Path would keep "%2F" and decode the rest, so read the raw target.
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var path = raw.Split('?', 2)[0];
        var query = context.Request.Query;
        var method = context.Request.Method;
        if (ObjectPath().Match(path) is { Success: true } one)
        {
            var (bucket, name) = (Uri.UnescapeDataString(one.Groups[1].Value), Uri.UnescapeDataString(one.Groups[2].Value));
            if (bucket != Bucket)
            {
                await ErrorAsync(context, 404, "The specified bucket does not exist.");
            }
            else if (!_objects.TryGetValue(name, out var stored))
            {
                await ErrorAsync(context, 404, $"No such object: {bucket}/{name}");
            }
            else if (method == "DELETE")
            {
                _objects.TryRemove(name, out _);
                context.Response.StatusCode = 204;
            }
            else if (method == "GET" && query["alt"] == "media")
            {
                context.Response.ContentType = stored.ContentType;
                context.Response.Headers["x-goog-hash"] = $"crc32c={stored.Crc32c},md5={stored.Md5}";
                await context.Response.Body.WriteAsync(stored.Data);
            }
            else if (method == "GET")
            {
                await JsonAsync(context, 200, Resource(name, stored));
            }
            else
            {
                await UnservedAsync(context, raw);
            }
        }
        else if (ListPath().Match(path) is { Success: true } list && method == "GET")
        {
            var bucket = Uri.UnescapeDataString(list.Groups[1].Value);
            if (bucket != Bucket)
            {
                await ErrorAsync(context, 404, "The specified bucket does not exist.");
                return;
            }

            var prefix = query["prefix"].ToString();
            var after = query["pageToken"].ToString();
            var names = _objects.Keys.Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(n, after) > 0).Order(StringComparer.Ordinal).ToList();
            var page = names.Take(PageSize).ToList();
            var body = new Dictionary<string, object> { ["kind"] = "storage#objects", ["items"] = page.Select(n => Resource(n, _objects[n])).ToList() };
            if (names.Count > PageSize)
            {
                body["nextPageToken"] = page[^1];
            }

            await JsonAsync(context, 200, body);
        }
        else if (UploadPath().Match(path) is { Success: true } upload)
        {
            await UploadAsync(context, Uri.UnescapeDataString(upload.Groups[1].Value), raw);
        }
        else
        {
            await UnservedAsync(context, raw);
        }
    }

    private async Task UploadAsync(HttpContext context, string bucket, string raw)
    {
        var query = context.Request.Query;
        if (bucket != Bucket)
        {
            await ErrorAsync(context, 404, "The specified bucket does not exist.");
            return;
        }

        switch (query["uploadType"].ToString(), context.Request.Method)
        {
            case ("media", "POST"):
                var name = query["name"].ToString();
                _objects[name] = StoredObject.Of(await ReadBodyAsync(context), context.Request.ContentType ?? "application/octet-stream");
                await JsonAsync(context, 200, Resource(name, _objects[name]));
                return;
            case ("resumable", "POST") when query["upload_id"].Count == 0:
                // Session start: the object's metadata is the JSON body; the session URI comes back in Location.
                using (var metadata = await JsonDocument.ParseAsync(Body(context)))
                {
                    var id = Guid.NewGuid().ToString("N");
                    var contentType = metadata.RootElement.TryGetProperty("contentType", out var t) ? t.GetString() : null;
                    _uploads[id] = new Upload(metadata.RootElement.GetProperty("name").GetString()!, contentType ?? context.Request.Headers["X-Upload-Content-Type"].ToString());
                    context.Response.Headers.Location = $"{Endpoint}/upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={id}";
                    context.Response.StatusCode = 200;
                }

                return;
            case ("resumable", "PUT") when _uploads.TryGetValue(query["upload_id"].ToString(), out var session):
                await ResumeAsync(context, query["upload_id"].ToString(), session);
                return;
            default:
                await UnservedAsync(context, raw);
                return;
        }
    }

    // One chunk: "Content-Range: bytes FIRST-LAST/TOTAL" (TOTAL may be '*' until the last chunk; "bytes */TOTAL" carries no data).
    private async Task ResumeAsync(HttpContext context, string id, Upload session)
    {
        var chunk = await ReadBodyAsync(context);
        var range = ContentRange().Match(context.Request.Headers.ContentRange.ToString());
        if (!range.Success)
        {
            await ErrorAsync(context, 400, $"bad Content-Range '{context.Request.Headers.ContentRange}'");
            return;
        }

        session.Data.Write(chunk);
        var total = range.Groups[3].Value;
        if (total != "*" && session.Data.Length == long.Parse(total, CultureInfo.InvariantCulture))
        {
            _uploads.TryRemove(id, out _);
            _objects[session.Name] = StoredObject.Of(session.Data.ToArray(), session.ContentType);
            await JsonAsync(context, 200, Resource(session.Name, _objects[session.Name]));
            return;
        }

        context.Response.StatusCode = 308;
        if (session.Data.Length > 0)
        {
            context.Response.Headers.Range = $"bytes=0-{session.Data.Length - 1}";
        }
    }

    private static Dictionary<string, object> Resource(string name, StoredObject stored) => new()
    {
        ["kind"] = "storage#object",
        ["id"] = $"{Bucket}/{name}/1",
        ["bucket"] = Bucket,
        ["name"] = name,
        ["generation"] = "1",
        ["size"] = stored.Data.Length.ToString(CultureInfo.InvariantCulture),
        ["contentType"] = stored.ContentType,
        ["md5Hash"] = stored.Md5,
        ["crc32c"] = stored.Crc32c,
    };

    private async Task UnservedAsync(HttpContext context, string raw)
    {
        Unserved.Enqueue($"{context.Request.Method} {raw}");
        await ErrorAsync(context, 501, $"the GCS test double does not serve {context.Request.Method} {raw}");
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, new { error = new { code = status, message, errors = new[] { new { message, reason = status == 404 ? "notFound" : "invalid" } } } });

    private static async Task JsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var memory = new MemoryStream();
        await Body(context).CopyToAsync(memory);
        return memory.ToArray();
    }

    // The client gzips request bodies (Google.Apis' GZipEnabled), as GCS accepts.
    private static Stream Body(HttpContext context) =>
        context.Request.Headers.ContentEncoding == "gzip" ? new GZipStream(context.Request.Body, CompressionMode.Decompress) : context.Request.Body;

    [GeneratedRegex("^/storage/v1/b/([^/]+)/o/(.+)$")]
    private static partial Regex ObjectPath();

    [GeneratedRegex("^/storage/v1/b/([^/]+)/o/?$")]
    private static partial Regex ListPath();

    [GeneratedRegex("^/upload/storage/v1/b/([^/]+)/o/?$")]
    private static partial Regex UploadPath();

    [GeneratedRegex(@"^bytes (\*|(\d+)-\d+)/(\d+|\*)$")]
    private static partial Regex ContentRange();

    private sealed record Upload(string Name, string ContentType)
    {
        public MemoryStream Data { get; } = new();
    }

    private sealed record StoredObject(byte[] Data, string ContentType, string Md5, string Crc32c)
    {
        public static StoredObject Of(byte[] data, string contentType)
        {
            var crc = Crc32C(data);
            var bigEndian = new[] { (byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc };
            return new StoredObject(data, contentType, Convert.ToBase64String(MD5.HashData(data)), Convert.ToBase64String(bigEndian));
        }

        // CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), which GCS reports and the client checks downloads against.
        private static uint Crc32C(byte[] data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc ^= b;
                for (var i = 0; i < 8; i++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
                }
            }

            return ~crc;
        }
    }
}
