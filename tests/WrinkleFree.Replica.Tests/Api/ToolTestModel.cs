using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Replica.Tests.Api;

/// <summary>
/// The tiny random model with a 2048-token context: a tool declaration spelled into a ChatML prompt with the tiny
/// vocabulary takes more than the tiny model's 512 tokens.
/// </summary>
internal static class ToolTestModel
{
    private static readonly Lazy<string> Model = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "wf-server-tests", $"tiny-2k-{Environment.ProcessId}.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, SyntheticShape.Tiny with { Name = "tiny-2k", ContextLength = 2048 }, GgmlType.TQ2_0, seed: 1);
        return path;
    });

    public static Task<ReplicaHost> StartAsync() => TestReplica.StartAsync(o => o with { ModelPath = Model.Value });
}
