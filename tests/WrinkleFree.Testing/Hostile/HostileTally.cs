using System.Text.Json;

namespace WrinkleFree.Testing.Hostile;

/// <summary>
/// Counts a hostile batch: requests tried, rejected correctly (a 4xx with the OpenAI error shape, or a bare 4xx where the
/// HTTP server itself refuses the request before any handler sees it), accepted (2xx, where the case allows it), and
/// failures: crashes (5xx, a dead process) and wrong answers (no response at all, a 4xx without the error shape, a stack trace).
/// </summary>
public sealed class HostileTally(string name)
{
    private readonly List<string> _failures = [];
    private readonly object _lock = new();

    public int Tried { get; private set; }

    public int Rejected { get; private set; }

    public int Accepted { get; private set; }

    public int Crashes { get; private set; }

    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_lock)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>
    /// Records one response to case <paramref name="what"/>. <paramref name="mayAccept"/>: a 2xx is fine too.
    /// <paramref name="bareAllowed"/>: a 4xx with an empty body is fine (a verdict of the HTTP server, not of our handlers).
    /// <paramref name="param"/>: when given, a 400 must name it.
    /// </summary>
    public void Record(string what, RawResponse? response, bool mayAccept = false, bool bareAllowed = false, string? param = null) =>
        Record(what, response?.Status, response?.Text, mayAccept, bareAllowed, param);

    public void Record(string what, int? status, string? body, bool mayAccept = false, bool bareAllowed = false, string? param = null)
    {
        lock (_lock)
        {
            Tried++;
            var problem = Judge(status, body, mayAccept, bareAllowed, param, out var crash, out var accepted);
            if (problem is null)
            {
                if (accepted)
                {
                    Accepted++;
                }
                else
                {
                    Rejected++;
                }

                return;
            }

            if (crash)
            {
                Crashes++;
            }

            _failures.Add($"{what}: {problem}");
        }
    }

    /// <summary>A process that died during the batch.</summary>
    public void RecordDeath(string what)
    {
        lock (_lock)
        {
            Crashes++;
            _failures.Add($"{what}: the process died");
        }
    }

    public override string ToString() =>
        $"{name}: {Tried} requests tried, {Rejected} rejected correctly, {Accepted} accepted, {Crashes} crashes, {_failures.Count - Crashes} wrong answers";

    /// <summary>Fails with every failure listed; otherwise passes.</summary>
    /// <summary>Writes the tally and its first 20 failures (for the test's output: docs/security.md quotes these lines).</summary>
    public void Report(Action<string> write)
    {
        write(ToString());
        foreach (var failure in Failures.Take(20))
        {
            write("  " + failure);
        }
    }

    public void AssertClean()
    {
        var failures = Failures;
        Assert.True(failures.Count == 0, $"{this}\n{string.Join("\n", failures.Take(20))}");
    }

    private static string? Judge(int? status, string? body, bool mayAccept, bool bareAllowed, string? param, out bool crash, out bool accepted)
    {
        crash = false;
        accepted = false;
        if (status is null)
        {
            return "no response (connection closed)";
        }

        if (status == 505 && bareAllowed)
        {
            // The HTTP server's answer to a protocol version it does not speak: correct, and no handler ran.
            return null;
        }

        if (status >= 500)
        {
            crash = true;
            return $"{status}: {Cut(body)}";
        }

        if (status is >= 200 and < 300)
        {
            accepted = true;
            return mayAccept ? null : $"{status} accepted: {Cut(body)}";
        }

        if (status is < 400 or >= 500)
        {
            return $"unexpected {status}";
        }

        if (string.IsNullOrEmpty(body))
        {
            return bareAllowed ? null : $"{status} with an empty body, not the OpenAI error shape";
        }

        if (body.Contains("   at ", StringComparison.Ordinal) || body.Contains("Exception", StringComparison.Ordinal))
        {
            return $"{status} leaks a .NET exception: {Cut(body)}";
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            var error = doc.RootElement.GetProperty("error");
            var message = error.GetProperty("message").GetString();
            _ = error.GetProperty("type").GetString();
            if (string.IsNullOrWhiteSpace(message) || !error.TryGetProperty("param", out var p) || !error.TryGetProperty("code", out _))
            {
                return $"{status} error object lacks message/type/param/code: {Cut(body)}";
            }

            if (param is not null && status == 400 && p.ValueKind == JsonValueKind.String && p.GetString() != param)
            {
                return $"400 names param '{p.GetString()}', expected '{param}': {Cut(body)}";
            }

            if (param is not null && status == 400 && p.ValueKind != JsonValueKind.String)
            {
                return $"400 names no param, expected '{param}': {Cut(body)}";
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"{status} body is not the OpenAI error shape: {Cut(body)}";
        }

        return null;
    }

    private static string Cut(string? text) => text is null ? "" : text.Length > 300 ? text[..300] + "..." : text;
}
