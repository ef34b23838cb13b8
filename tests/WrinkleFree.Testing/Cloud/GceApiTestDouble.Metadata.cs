using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// Each booted instance's metadata server, as a VM sees http://metadata.google.internal/computeMetadata/v1/ but under
/// the instance's own root (<see cref="GceInstanceStart.MetadataRoot"/>), since all instances share this one listener:
/// instance/preempted (FALSE, TRUE once preempted; wait_for_change and last_etag hang until it changes, as the replica's
/// preemption watch uses it) and instance/attributes/user-data. Like GCE it wants "Metadata-Flavor: Google".
/// </summary>
public sealed partial class GceApiTestDouble
{
    private readonly Dictionary<(string Zone, string Name), MetadataEntry> _metadata = [];

    private Uri MetadataRoot(string zone, string name) => new(Url, $"metadata/{zone}/{name}/");

    private async Task MetadataAsync(HttpContext context, string zone, string name, string[] rest)
    {
        if (context.Request.Headers["Metadata-Flavor"].ToString() != "Google")
        {
            context.Response.StatusCode = (int)HttpStatusCode.Forbidden;
            await context.Response.WriteAsync("Missing Metadata-Flavor:Google header.", context.RequestAborted);
            return;
        }

        MetadataEntry? entry;
        lock (_gate)
            entry = _metadata.GetValueOrDefault((zone, name));
        context.Response.Headers["Metadata-Flavor"] = "Google";
        switch (rest)
        {
            case ["computeMetadata", "v1", "instance", "preempted"] when entry is not null:
                await PreemptedAsync(context, entry);
                return;
            case ["computeMetadata", "v1", "instance", "attributes", "user-data"] when entry is not null:
                context.Response.ContentType = "application/text";
                await context.Response.WriteAsync(entry.UserData, context.RequestAborted);
                return;
            default:
                context.Response.StatusCode = (int)HttpStatusCode.NotFound;
                await context.Response.WriteAsync("Not Found", context.RequestAborted);
                return;
        }
    }

    private async Task PreemptedAsync(HttpContext context, MetadataEntry entry)
    {
        var query = context.Request.Query;
        if (query["wait_for_change"].ToString() == "true")
        {
            Task changed;
            bool preempted;
            lock (_gate)
            {
                changed = entry.Changed.Task;
                preempted = entry.Preempted;
            }

            // last_etag names the value the caller saw: a different current value answers at once.
            var lastEtag = query["last_etag"].ToString();
            if (!(lastEtag.Length > 0 && lastEtag != Etag(preempted)))
            {
                var timeout = int.TryParse(query["timeout_sec"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(5);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                await Task.WhenAny(changed, Task.Delay(timeout, stop.Token)).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        bool value;
        lock (_gate)
            value = entry.Preempted;
        context.Response.ContentType = "application/text";
        context.Response.Headers.ETag = Etag(value);
        await context.Response.WriteAsync(value ? "TRUE" : "FALSE", context.RequestAborted);
    }

    /// <summary>Marks the instance's metadata preempted and wakes its watchers; call under the gate.</summary>
    private void MarkPreempted(string zone, string name)
    {
        if (_metadata.TryGetValue((zone, name), out var entry) && !entry.Preempted)
        {
            entry.Preempted = true;
            entry.Changed.TrySetResult();
        }
    }

    private static string Etag(bool preempted) => preempted ? "\"preempted-1\"" : "\"preempted-0\"";

    private sealed class MetadataEntry(string userData)
    {
        public string UserData { get; } = userData;

        public bool Preempted { get; set; }

        public TaskCompletionSource Changed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
