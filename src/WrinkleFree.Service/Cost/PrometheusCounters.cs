using System.Globalization;

namespace WrinkleFree.Service.Cost;

/// <summary>
/// Reads the token counters out of a replica's /metrics page (Prometheus text format 0.0.4): ours
/// (<c>wf_generated_tokens_total</c>, <c>wf_prompt_tokens_total</c>) or, for a service whose <c>run:</c> starts vLLM itself,
/// vLLM's (<c>vllm:generation_tokens_total</c>, <c>vllm:prompt_tokens_total</c>), each summed over its label sets. Written by
/// hand: prometheus-net only writes this format, and the few rules needed (comments, labels with quoted values, the value
/// token) are all there is to it.
/// </summary>
public static class PrometheusCounters
{
    private static readonly (string Generated, string Prompt)[] Families =
    [
        ("wf_generated_tokens_total", "wf_prompt_tokens_total"),
        ("vllm:generation_tokens_total", "vllm:prompt_tokens_total"),
    ];

    /// <summary>The (generated, prompt) token totals, or null when the page has neither family's generated counter.</summary>
    public static (long Generated, long Prompt)? ReadTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var (generatedName, promptName) in Families)
        {
            if (Sum(text, generatedName) is { } generated)
                return ((long)generated, (long)(Sum(text, promptName) ?? 0));
        }

        return null;
    }

    /// <summary>The sum of every sample of <paramref name="name"/>, or null when there is none.</summary>
    public static double? Sum(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        double? total = null;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.IsEmpty || line[0] == '#' || !line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length)
                continue;
            var rest = line[name.Length..];
            if (rest[0] == '{')
            {
                var close = LabelsEnd(rest);
                if (close < 0)
                    continue;
                rest = rest[(close + 1)..];
            }
            else if (rest[0] is not (' ' or '\t'))
            {
                // Another metric whose name starts with this one (wf_generated_tokens_total_created...).
                continue;
            }

            rest = rest.TrimStart();
            var end = rest.IndexOfAny(' ', '\t');
            var value = end < 0 ? rest : rest[..end];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v))
                total = (total ?? 0) + v;
        }

        return total;
    }

    // The index of the '}' closing the label set that starts at 0, skipping quoted values (which may hold '}' and \").
    private static int LabelsEnd(ReadOnlySpan<char> s)
    {
        var quoted = false;
        for (var i = 1; i < s.Length; i++)
        {
            var c = s[i];
            if (quoted)
            {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    quoted = false;
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == '}')
            {
                return i;
            }
        }

        return -1;
    }
}
