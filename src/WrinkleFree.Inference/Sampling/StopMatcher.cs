namespace WrinkleFree.Inference.Sampling;

/// <summary>
/// Finds stop strings in streamed text even when they straddle token boundaries. Text that could still be the start
/// of a stop is held back until the next piece decides it; on a match only the text before the stop is emitted.
/// </summary>
public sealed class StopMatcher
{
    private readonly string[] _stops;
    private string _held = "";
    private bool _stopped;

    /// <summary>Creates a matcher for <paramref name="stops"/> (non-empty strings, compared ordinally); an empty list never stops.</summary>
    public StopMatcher(IReadOnlyList<string> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        _stops = new string[stops.Count];
        for (var i = 0; i < stops.Count; i++)
        {
            if (string.IsNullOrEmpty(stops[i]))
            {
                throw new ArgumentException($"stop string {i} is empty", nameof(stops));
            }

            _stops[i] = stops[i];
        }
    }

    /// <summary>Whether a stop string has matched; later pushes emit nothing.</summary>
    public bool Stopped => _stopped;

    /// <summary>Adds the next decoded piece and returns the text that can no longer be part of a stop.</summary>
    public StopResult Push(string textPiece)
    {
        ArgumentNullException.ThrowIfNull(textPiece);
        if (_stopped)
        {
            return new StopResult("", true);
        }

        var text = _held.Length == 0 ? textPiece : _held + textPiece;
        var first = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        if (first >= 0)
        {
            _stopped = true;
            _held = "";
            return new StopResult(text[..first], true);
        }

        var keep = HeldBackLength(text);
        _held = text[(text.Length - keep)..];
        return new StopResult(text[..(text.Length - keep)], false);
    }

    /// <summary>Returns the text still held back at the end of generation (empty after a stop).</summary>
    public string Flush()
    {
        var rest = _held;
        _held = "";
        return rest;
    }

    // The longest suffix of text that is a proper prefix of some stop; also never ends the emitted part between the
    // two halves of a surrogate pair, so callers never see half a character.
    private int HeldBackLength(string text)
    {
        var keep = 0;
        foreach (var stop in _stops)
        {
            var longest = Math.Min(stop.Length - 1, text.Length);
            for (var len = longest; len > keep; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    keep = len;
                    break;
                }
            }
        }

        var cut = text.Length - keep;
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            keep++;
        }

        return keep;
    }
}
