using WrinkleFree.Training.Losses;
using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>Teacher pre-training and stage 2: next-token cross-entropy only.</summary>
internal sealed class LanguageModelObjective(CausalLanguageModel student) : IStageObjective
{
    public CausalLanguageModel Student { get; } = student;

    public Tensor Compute(Tensor ids, Dictionary<string, double> terms)
    {
        var ce = LanguageModelLoss.Compute(Student.forward(ids), ids);
        terms.Accumulate("ce", ce);
        return ce;
    }

    public void Dispose() => Student.Dispose();
}
