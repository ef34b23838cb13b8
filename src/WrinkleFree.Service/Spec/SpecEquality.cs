using System.Collections;

namespace WrinkleFree.Service.Spec;

/// <summary>
/// Value equality for the spec's collections: records compare lists and maps by reference, which would make a parsed spec
/// never equal its round-tripped copy.
/// </summary>
internal static class SpecEquality
{
    public static bool Lists<T>(IReadOnlyList<T> a, IReadOnlyList<T> b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        var comparer = EqualityComparer<T>.Default;
        for (var i = 0; i < a.Count; i++)
        {
            if (!comparer.Equals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    public static bool Maps<T>(IReadOnlyDictionary<string, T> a, IReadOnlyDictionary<string, T> b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !Deep(value, other))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Compares free-form YAML values (scalars, string-keyed maps, lists) structurally.</summary>
    public static bool Deep(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (null, _) or (_, null):
                return false;
            case (string, _) or (_, string):
                return a.Equals(b);
            case (IDictionary x, IDictionary y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                foreach (DictionaryEntry entry in x)
                {
                    if (!y.Contains(entry.Key) || !Deep(entry.Value, y[entry.Key]))
                    {
                        return false;
                    }
                }

                return true;
            case (IList x, IList y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (!Deep(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return a.Equals(b);
        }
    }

    /// <summary>An order-independent hash that is cheap and consistent with <see cref="Maps"/>.</summary>
    public static int MapHash<T>(IReadOnlyDictionary<string, T> map)
    {
        var hash = map.Count;
        foreach (var key in map.Keys)
        {
            hash ^= StringComparer.Ordinal.GetHashCode(key);
        }

        return hash;
    }

    public static int ListHash<T>(IReadOnlyList<T> list)
    {
        var hash = new HashCode();
        foreach (var item in list)
        {
            hash.Add(item);
        }

        return hash.ToHashCode();
    }
}
