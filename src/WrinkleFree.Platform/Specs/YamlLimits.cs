using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace WrinkleFree.Platform.Specs;

/// <summary>
/// Bounds every YAML document a user gives us (service specs, job tasks) is held to before it is loaded. YamlDotNet's
/// representation model and our readers walk the node tree recursively, so a 100,000-deep sequence overflows the stack
/// (which no catch survives) and a few nested aliases ("billion laughs") expand to billions of nodes. The event parser is
/// iterative, so walking its events with a depth count and the expanded size of each anchor is safe at any depth.
/// </summary>
public static class YamlLimits
{
    /// <summary>Largest document, in characters (1 MiB): a spec is a page or two.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>Deepest nesting of mappings and sequences.</summary>
    public const int MaxDepth = 64;

    /// <summary>Most alias uses (<c>*name</c>) in one document.</summary>
    public const int MaxAliases = 1000;

    /// <summary>Most nodes the document holds once every alias is expanded in place.</summary>
    public const long MaxExpandedNodes = 100_000;

    /// <summary>Throws <see cref="YamlLimitException"/> when <paramref name="yaml"/> breaks a bound; YAML syntax errors propagate as <see cref="YamlException"/>.</summary>
    public static void Check(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        if (yaml.Length > MaxChars)
        {
            throw new YamlLimitException(Mark.Empty,
                $"the document is {yaml.Length} characters; at most {MaxChars} (1 MiB) are accepted. Split it or move large values (scripts, data) into files");
        }

        var parser = new Parser(new StringReader(yaml));
        // Open collections: their expanded size so far and their anchor, if any.
        var open = new Stack<(long Size, string? Anchor)>();
        // Expanded size of each completed anchor; an anchor still open is absent, so an alias into it (a cycle) is caught.
        var anchors = new Dictionary<string, long>(StringComparer.Ordinal);
        var aliases = 0;
        long total = 0;
        var last = Mark.Empty;
        while (Next(parser, last))
        {
            var current = parser.Current!;
            last = current.Start;
            // Nodes this event adds to the expanded document, and to the size of the collection it sits in.
            long nodes;
            long size;
            switch (current)
            {
                case SequenceStart or MappingStart:
                    if (open.Count >= MaxDepth)
                    {
                        throw new YamlLimitException(current.Start,
                            $"the document nests deeper than {MaxDepth} levels of mappings and lists; flatten it");
                    }

                    var anchor = ((NodeEvent)current).Anchor;
                    var name = anchor.IsEmpty ? null : anchor.Value;
                    if (name is not null)
                    {
                        anchors.Remove(name);
                    }

                    open.Push((1, name));
                    nodes = 1;
                    size = 0;
                    break;
                case SequenceEnd or MappingEnd:
                    var (closed, opened) = open.Pop();
                    if (opened is not null)
                    {
                        anchors[opened] = closed;
                    }

                    nodes = 0;
                    size = closed;
                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty)
                    {
                        anchors[scalar.Anchor.Value] = 1;
                    }

                    nodes = size = 1;
                    break;
                case AnchorAlias alias:
                    if (++aliases > MaxAliases)
                    {
                        throw new YamlLimitException(current.Start, $"the document uses more than {MaxAliases} aliases; write the values out");
                    }

                    if (!anchors.TryGetValue(alias.Value.Value, out size))
                    {
                        throw new YamlLimitException(current.Start,
                            $"alias *{alias.Value.Value} refers to an anchor that is not defined before it or that contains the alias itself");
                    }

                    nodes = size;
                    break;
                default:
                    continue;
            }

            if (size > 0 && open.Count > 0)
            {
                var (parent, parentAnchor) = open.Pop();
                open.Push((parent + size, parentAnchor));
            }

            total += nodes;
            if (total > MaxExpandedNodes)
            {
                throw new YamlLimitException(current.Start,
                    $"the document expands to more than {MaxExpandedNodes} nodes once its aliases are resolved; write it with fewer aliases");
            }
        }
    }

    private static bool Next(Parser parser, Mark last)
    {
        try
        {
            return parser.MoveNext();
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, not a YamlException, for some malformed input (e.g. "a: [1, 2\nb: }").
            throw new YamlException(last, last, "the YAML is malformed after this point; check its brackets, braces and quotes");
        }
    }
}
