namespace WrinkleFree.Testing.Kubernetes;

/// <summary>The equality-based label selectors the double understands: <c>k</c>, <c>!k</c>, <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, comma-separated.</summary>
internal sealed class LabelSelector
{
    private readonly List<Func<IDictionary<string, string>?, bool>> _terms = [];

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        foreach (var term in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (term.Contains("!=", StringComparison.Ordinal))
            {
                var (key, value) = Split(term, "!=");
                selector._terms.Add(l => l is null || !l.TryGetValue(key, out var v) || v != value);
            }
            else if (term.Contains('=', StringComparison.Ordinal))
            {
                var (key, value) = Split(term, term.Contains("==", StringComparison.Ordinal) ? "==" : "=");
                selector._terms.Add(l => l is not null && l.TryGetValue(key, out var v) && v == value);
            }
            else if (term.StartsWith('!'))
            {
                selector._terms.Add(l => l is null || !l.ContainsKey(term[1..]));
            }
            else
            {
                selector._terms.Add(l => l is not null && l.ContainsKey(term));
            }
        }

        return selector;
    }

    public bool Matches(IDictionary<string, string>? labels) => _terms.All(t => t(labels));

    private static (string Key, string Value) Split(string term, string op)
    {
        var at = term.IndexOf(op, StringComparison.Ordinal);
        return (term[..at].Trim(), term[(at + op.Length)..].Trim());
    }
}
