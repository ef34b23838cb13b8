using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// The part of Compute Engine's list filter syntax the double understands: <c>field = "value"</c> comparisons, each
/// optionally in parentheses, joined by AND; a field is a top-level string (status, operationType, targetId) or
/// <c>labels.KEY</c>. Anything else is refused with 400, so a client filter the double cannot check fails the test.
/// </summary>
public sealed partial class GceFilter
{
    private readonly List<(string[] Path, string Value)> _clauses;

    private GceFilter(List<(string[] Path, string Value)> clauses) => _clauses = clauses;

    /// <summary>Parses a filter; null or empty matches everything. Throws <see cref="FormatException"/> naming the clause it cannot read.</summary>
    public static GceFilter Parse(string? filter)
    {
        var clauses = new List<(string[], string)>();
        if (string.IsNullOrWhiteSpace(filter))
            return new GceFilter(clauses);
        foreach (var part in filter.Split(" AND ", StringSplitOptions.TrimEntries))
        {
            var match = Clause().Match(part);
            if (!match.Success)
                throw new FormatException($"Invalid value for field 'filter': '{filter}'. The clause '{part}' is not field = \"value\".");
            clauses.Add((match.Groups[1].Value.Split('.'), match.Groups[2].Value));
        }

        return new GceFilter(clauses);
    }

    public bool Matches(JsonObject resource)
    {
        foreach (var (path, value) in _clauses)
        {
            JsonNode? node = resource;
            foreach (var step in path)
                node = node is JsonObject obj ? obj[step] : null;
            if (node is not JsonValue leaf || leaf.ToString() != value)
                return false;
        }

        return true;
    }

    [GeneratedRegex("""^\(?\s*([A-Za-z][A-Za-z0-9_]*(?:\.[a-z][-_a-z0-9]*)?)\s*=\s*"([^"]*)"\s*\)?$""")]
    private static partial Regex Clause();
}
