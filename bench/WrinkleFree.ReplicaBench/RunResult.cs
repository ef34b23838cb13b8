namespace WrinkleFree.ReplicaBench;

/// <summary>One measured run: generated tokens over wall time, and every request's time to first token.</summary>
internal sealed record RunResult(long Tokens, double Seconds, double[] TtftSeconds)
{
    public double TokensPerSecond => Tokens / Seconds;

    public double TtftMs(double quantile)
    {
        var sorted = TtftSeconds.Order().ToArray();
        var rank = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)] * 1000;
    }
}
