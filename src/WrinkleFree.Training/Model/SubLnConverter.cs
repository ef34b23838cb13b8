using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>
/// BitNet Distillation stage 1: turns a full-precision model into a ternary student with the same weights. Every linear
/// layer except the embeddings and the LM head becomes a <see cref="BitLinear"/>, and (by default) a SubLN RMSNorm with
/// weight 1 is inserted before o_proj and down_proj to keep the variance of the quantized layers' inputs stable. No training.
/// </summary>
public static class SubLnConverter
{
    /// <summary>Returns a new model on the teacher's device; the teacher is left unchanged.</summary>
    public static CausalLanguageModel Convert(CausalLanguageModel teacher, bool insertSubLn = true)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        if (teacher.Config.Ternary)
        {
            throw new ArgumentException("the model is already ternary (wrinklefree_ternary = true); stage 1 takes a full-precision teacher", nameof(teacher));
        }

        var config = teacher.Config with { Ternary = true, SubLn = insertSubLn || teacher.Config.SubLn };
        var student = new CausalLanguageModel(config, teacher.Device);
        var source = teacher.NamedParameters();
        using (no_grad())
        {
            foreach (var (name, p) in student.NamedParameters())
            {
                if (source.TryGetValue(name, out var s))
                {
                    p.copy_(s);
                }
                else if (!name.EndsWith("_sub_norm.weight", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"student parameter '{name}' has no counterpart in the teacher");
                }
            }
        }

        return student;
    }
}
