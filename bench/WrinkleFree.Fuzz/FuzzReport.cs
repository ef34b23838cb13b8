namespace WrinkleFree.Fuzz;

/// <summary>What one in-process run did: executions, clean rejections, accepted inputs and distinct crashes.</summary>
internal sealed record FuzzReport(string Target, int Executions, int Accepted, int Rejected, int CrashingInputs, IReadOnlyList<FuzzCrash> Crashes)
{
    public override string ToString() =>
        $"{Target}: {Executions} executions, {Accepted} accepted, {Rejected} rejected cleanly, {CrashingInputs} crashing inputs ({Crashes.Count} distinct)";
}
