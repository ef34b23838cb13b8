using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using WrinkleFree.Platform.Home;

namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>
/// OpenSSH known_hosts files read and appended by hand: SSH.NET has no known_hosts support (it only raises
/// <c>HostKeyReceived</c> and lets the caller decide). Handles plain host patterns (comma lists, <c>*</c>/<c>?</c>
/// wildcards, <c>!</c> negation), hashed <c>|1|salt|hmac</c> entries, the <c>[host]:port</c> form for ports other than
/// 22, and <c>@revoked</c> markers; <c>@cert-authority</c> lines are skipped (no host certificates here).
/// </summary>
internal sealed class KnownHosts
{
    private readonly List<Entry> _entries;

    private KnownHosts(List<Entry> entries) => _entries = entries;

    /// <summary>Reads <paramref name="files"/>; missing ones are skipped, malformed lines ignored as OpenSSH does.</summary>
    public static KnownHosts Load(IEnumerable<string> files)
    {
        var entries = new List<Entry>();
        foreach (var file in files.Distinct(StringComparer.Ordinal))
        {
            if (!File.Exists(file))
            {
                continue;
            }

            var lineNumber = 0;
            foreach (var raw in File.ReadLines(file))
            {
                lineNumber++;
                if (Parse(raw, file, lineNumber) is { } entry)
                {
                    entries.Add(entry);
                }
            }
        }

        return new KnownHosts(entries);
    }

    /// <summary>The name a host is recorded under: <c>host</c> for port 22, else <c>[host]:port</c>.</summary>
    public static string HostName(string host, int port) => port == 22 ? host : $"[{host}]:{port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>SHA256 fingerprint as OpenSSH prints it: <c>SHA256:</c> and unpadded base64.</summary>
    public static string Fingerprint(byte[] blob) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');

    /// <summary>The key type a public key blob names (its first SSH string, e.g. <c>ssh-ed25519</c>).</summary>
    public static string KeyType(byte[] blob)
    {
        if (blob.Length < 4)
        {
            return "unknown";
        }

        var length = (blob[0] << 24) | (blob[1] << 16) | (blob[2] << 8) | blob[3];
        return length > 0 && length <= blob.Length - 4 ? Encoding.ASCII.GetString(blob, 4, length) : "unknown";
    }

    /// <summary>Key types recorded for the host (so the connection asks for a key type we can check).</summary>
    public IReadOnlySet<string> KeyTypesFor(string host, int port)
    {
        var name = HostName(host, port);
        return _entries.Where(e => !e.Revoked && e.Matches(name)).Select(e => e.KeyType).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Checks the key <paramref name="blob"/> the host offered against what is recorded for it.</summary>
    public HostKeyVerdict Check(string host, int port, byte[] blob)
    {
        var name = HostName(host, port);
        var matching = _entries.Where(e => e.Matches(name)).ToList();
        if (matching.FirstOrDefault(e => e.Revoked && e.Blob.AsSpan().SequenceEqual(blob)) is { } revoked)
        {
            return new HostKeyVerdict(HostKeyStatus.Revoked, revoked.File, revoked.Line, revoked.Blob);
        }

        var recorded = matching.Where(e => !e.Revoked).ToList();
        if (recorded.Any(e => e.Blob.AsSpan().SequenceEqual(blob)))
        {
            return new HostKeyVerdict(HostKeyStatus.Known, null, 0, null);
        }

        if (recorded.Count == 0)
        {
            return new HostKeyVerdict(HostKeyStatus.Unknown, null, 0, null);
        }

        var type = KeyType(blob);
        var old = recorded.FirstOrDefault(e => e.KeyType == type) ?? recorded[0];
        return new HostKeyVerdict(HostKeyStatus.Changed, old.File, old.Line, old.Blob);
    }

    /// <summary>Appends the host's key to <paramref name="file"/> (created 0600 in a 0700 folder) as a plain entry.</summary>
    public static void Append(string file, string host, int port, byte[] blob)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        WfHome.CreatePrivateDirectory(folder);
        WfHome.CreatePrivateFile(file);
        var line = $"{HostName(host, port)} {KeyType(blob)} {Convert.ToBase64String(blob)}\n";
        using var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = Encoding.ASCII.GetBytes(line);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    private static Entry? Parse(string raw, string file, int lineNumber)
    {
        var line = raw.Trim();
        if (line.Length == 0 || line[0] == '#')
        {
            return null;
        }

        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var revoked = false;
        var start = 0;
        if (fields[0].StartsWith('@'))
        {
            if (fields[0] != "@revoked")
            {
                return null;
            }

            revoked = true;
            start = 1;
        }

        if (fields.Length < start + 3)
        {
            return null;
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(fields[start + 2]);
        }
        catch (FormatException)
        {
            return null;
        }

        return new Entry(fields[start], KeyType(blob), blob, revoked, file, lineNumber);
    }

    /// <summary>One known_hosts line: the host patterns (or a hashed name), the key, where it was written.</summary>
    private sealed record Entry(string Hosts, string KeyType, byte[] Blob, bool Revoked, string File, int Line)
    {
        public bool Matches(string name)
        {
            if (Hosts.StartsWith("|1|", StringComparison.Ordinal))
            {
                return MatchesHashed(Hosts, name);
            }

            var matched = false;
            foreach (var pattern in Hosts.Split(','))
            {
                if (pattern.StartsWith('!'))
                {
                    if (Wildcard(pattern[1..], name))
                    {
                        return false;
                    }
                }
                else if (Wildcard(pattern, name))
                {
                    matched = true;
                }
            }

            return matched;
        }

        // |1|base64(salt)|base64(HMAC-SHA1(salt, name)): the name is hidden but can be checked.
        private static bool MatchesHashed(string hashed, string name)
        {
            var parts = hashed.Split('|');
            if (parts.Length != 4)
            {
                return false;
            }

            try
            {
                var salt = Convert.FromBase64String(parts[2]);
                var expected = Convert.FromBase64String(parts[3]);
                return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name)), expected);
            }
            catch (FormatException)
            {
                return false;
            }
        }

        private static bool Wildcard(string pattern, string name) => Wildcard(pattern.AsSpan(), name.AsSpan());

        private static bool Wildcard(ReadOnlySpan<char> pattern, ReadOnlySpan<char> name)
        {
            while (pattern.Length > 0)
            {
                if (pattern[0] == '*')
                {
                    for (var skip = 0; skip <= name.Length; skip++)
                    {
                        if (Wildcard(pattern[1..], name[skip..]))
                        {
                            return true;
                        }
                    }

                    return false;
                }

                if (name.Length == 0 || (pattern[0] != '?' && char.ToLowerInvariant(pattern[0]) != char.ToLowerInvariant(name[0])))
                {
                    return false;
                }

                pattern = pattern[1..];
                name = name[1..];
            }

            return name.Length == 0;
        }
    }
}
