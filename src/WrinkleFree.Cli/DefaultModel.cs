using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Cli;

/// <summary>
/// The model `wf up` serves without a spec, and that a spec's `wf replica` gets as MODEL_PATH when its envs set none:
/// models/wrinklefree-tiny.gguf under the current folder (the trained tiny model of a checkout), else a synthetic tiny
/// model written once to WF_HOME/models.
/// </summary>
internal static class DefaultModel
{
    private const string Trained = "models/wrinklefree-tiny.gguf";

    /// <summary>The default model's path, without writing anything (what a plan shows).</summary>
    public static string PathFor(string home)
    {
        var trained = Path.GetFullPath(Trained);
        return File.Exists(trained) ? trained : SyntheticPath(home);
    }

    /// <summary>The default model's path, writing the synthetic model first when it is the one and is not there yet.</summary>
    /// <param name="note">Told, once, that a synthetic model was written.</param>
    public static string Ensure(string home, TextWriter? note)
    {
        var path = PathFor(home);
        if (!File.Exists(path))
        {
            // GgufWriter writes atomically: a second `wf up` never sees half a model.
            SyntheticModel.Write(path, SyntheticShape.Tiny, GgmlType.TQ2_0, seed: 1);
            note?.WriteLine($"no {Trained} here: serving a synthetic tiny model ({path})");
        }

        return path;
    }

    private static string SyntheticPath(string home) => Path.Combine(home, "models", "synthetic-tiny-tq2_0.gguf");
}
