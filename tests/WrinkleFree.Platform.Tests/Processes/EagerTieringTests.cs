using System.Text;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Platform.Tests.Processes;

public sealed class EagerTieringTests
{
    [Fact]
    public void ParseCommandLine_NulTerminatedArguments_KeepsEmptyOnesAndUtf8()
    {
        var bytes = Encoding.UTF8.GetBytes("dotnet\0/opt/wf.dll\0replica\0--model-id\0\0--prompt\0naïve text\0");

        var arguments = EagerTiering.ParseCommandLine(bytes);

        Assert.Equal(["dotnet", "/opt/wf.dll", "replica", "--model-id", "", "--prompt", "naïve text"], arguments);
    }

    [Fact]
    public void ParseCommandLine_LastArgumentUnterminated_IsKept()
    {
        Assert.Equal(["wf", "replica"], EagerTiering.ParseCommandLine(Encoding.UTF8.GetBytes("wf\0replica")));
        Assert.Empty(EagerTiering.ParseCommandLine([]));
    }

    [Fact]
    public void TryReexecute_InsideATestHost_DoesNothingAndSaysWhy()
    {
        // The guard that keeps a host running commands in process (this test runner) from being replaced: were it
        // missing, this test process would be re-executed here.
        var reason = EagerTiering.TryReexecute(["wf"]);

        Assert.True(
            reason.Contains("entry assembly", StringComparison.Ordinal) || reason.Contains("already set", StringComparison.Ordinal),
            reason);
    }
}
