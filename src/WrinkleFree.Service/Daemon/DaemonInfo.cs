using System.Text.Json;
using System.Text.Json.Serialization;
using WrinkleFree.Platform.Files;
using WrinkleFree.Platform.Home;

namespace WrinkleFree.Service.Daemon;

/// <summary>The daemon's daemon.json: which process serves the admin API and on which loopback port.</summary>
/// <param name="Pid">The daemon's process id.</param>
/// <param name="Port">The admin API's port on 127.0.0.1.</param>
/// <param name="StartedAt">When the daemon started.</param>
public sealed record DaemonInfo(int Pid, int Port, DateTimeOffset StartedAt)
{
    /// <summary>The file name under the WrinkleFree home.</summary>
    public const string FileName = "daemon.json";

    /// <summary>
    /// The admin token the CLI sends (<c>Authorization: Bearer</c>) and the daemon checks on every admin route: new at each
    /// daemon start, readable only by the owner because this file is 0600 in the 0700 home.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>The admin API's base URL.</summary>
    [JsonIgnore]
    public Uri AdminUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>True while a process with <see cref="Pid"/> exists (it may still be another program after a reboot; the caller pings).</summary>
    [JsonIgnore]
    public bool ProcessExists => Directory.Exists($"/proc/{Pid}");

    /// <summary>Reads daemon.json from <paramref name="home"/>, or null when it is missing or unreadable.</summary>
    public static DaemonInfo? TryRead(string home)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(home, FileName));
            return JsonSerializer.Deserialize(text, DaemonJsonContext.Default.DaemonInfo);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes daemon.json atomically and owner-only (it names the admin port), so a reader never sees half of it.</summary>
    public void Write(string home)
    {
        WfHome.CreatePrivateDirectory(home);
        AtomicFile.Write(Path.Combine(home, FileName), stream => JsonSerializer.Serialize(stream, this, DaemonJsonContext.Default.DaemonInfo), WfHome.PrivateFileMode);
    }
}
