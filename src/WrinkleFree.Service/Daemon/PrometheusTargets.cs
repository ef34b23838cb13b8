using System.Globalization;
using System.Text.Json;
using WrinkleFree.Platform.Files;
using WrinkleFree.Service.Controller;

namespace WrinkleFree.Service.Daemon;

/// <summary>
/// Prometheus <c>file_sd</c> target files the daemon keeps current under <c>$WF_HOME/prometheus/</c>: replicas.json with
/// every ready replica's /metrics (labels service, tier, replica, version) and services.json with every service
/// endpoint's /metrics (label service), with <c>__scheme__: https</c> for those served over TLS. deploy/prometheus/prometheus.yml reads both; Prometheus re-reads them on change.
/// </summary>
public static class PrometheusTargets
{
    /// <summary>The default folder, under the home.</summary>
    public static string Folder(string home) => Path.Combine(home, "prometheus");

    /// <summary>Writes both files into <paramref name="folder"/> when their content changed (atomically, so Prometheus never reads half a file).</summary>
    public static void Write(string folder, IEnumerable<ServiceSnapshot> services)
    {
        var list = services.OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
        var replicas = list.SelectMany(s => s.Replicas
            .Where(r => r.Status == ReplicaStatus.Ready && r.Endpoint is not null)
            .Select(r => Group(new Uri(r.Endpoint!), new()
            {
                ["service"] = s.Name,
                ["tier"] = r.Tier,
                ["replica"] = r.Id.ToString(CultureInfo.InvariantCulture),
                ["version"] = r.Version.ToString(CultureInfo.InvariantCulture),
            })));
        var endpoints = list.Select(s => Group(s.Endpoint, new() { ["service"] = s.Name }));
        EnsureFolder(folder);
        WriteIfChanged(Path.Combine(folder, "replicas.json"), replicas.ToList());
        WriteIfChanged(Path.Combine(folder, "services.json"), endpoints.ToList());
    }

    /// <summary>
    /// Creates <paramref name="folder"/> readable by others (0755), on purpose: the daemon runs with an owner-only umask,
    /// which a create mode cannot override (hence the chmod), and Prometheus runs as its own user and must read the
    /// targets, which hold addresses and labels, no secret.
    /// </summary>
    public static void EnsureFolder(string folder)
    {
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(folder, Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    // An https target (service.tls, or a replica serving mutual TLS) says so in Prometheus's __scheme__ label.
    private static Dictionary<string, object> Group(Uri url, Dictionary<string, string> labels)
    {
        if (url.Scheme == Uri.UriSchemeHttps)
            labels["__scheme__"] = "https";
        return new()
        {
            ["targets"] = new[] { HostPort(url) },
            ["labels"] = labels,
        };
    }

    // An endpoint bound to every address is scraped on loopback.
    private static string HostPort(Uri url) =>
        (url.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : url.Host) + ":" + url.Port.ToString(CultureInfo.InvariantCulture);

    private static void WriteIfChanged(string path, List<Dictionary<string, object>> groups)
    {
        var text = JsonSerializer.Serialize(groups, new JsonSerializerOptions { WriteIndented = true }) + "\n";
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == text)
                return;
        }
        catch (IOException)
        {
            // Rewrite it.
        }
        AtomicFile.WriteAllText(path, text, Readable);
    }
}
