namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>A set of code points: inclusive ranges, or everything outside them when negated.</summary>
internal sealed class CharClass(int[] ranges, bool negated)
{
    /// <summary>Pairs (low, high), inclusive.</summary>
    private readonly int[] _ranges = ranges;

    public bool Negated { get; } = negated;

    public static CharClass Single(int codePoint) => new([codePoint, codePoint], false);

    public bool Matches(int codePoint)
    {
        var inside = false;
        for (var i = 0; i < _ranges.Length; i += 2)
        {
            if (codePoint >= _ranges[i] && codePoint <= _ranges[i + 1])
            {
                inside = true;
                break;
            }
        }

        return inside != Negated;
    }

    /// <summary>Whether any code point in [low, high] matches (prunes a half-read UTF-8 sequence early).</summary>
    public bool Intersects(int low, int high)
    {
        if (Negated)
        {
            // Empty only when the ranges cover [low, high] entirely; a single covering range is the case that matters.
            for (var i = 0; i < _ranges.Length; i += 2)
            {
                if (_ranges[i] <= low && _ranges[i + 1] >= high)
                {
                    return false;
                }
            }

            return true;
        }

        for (var i = 0; i < _ranges.Length; i += 2)
        {
            if (_ranges[i] <= high && _ranges[i + 1] >= low)
            {
                return true;
            }
        }

        return false;
    }
}
