using WrinkleFree.Training.Losses;
using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>Stage 1.9: LM loss plus weight · layer-wise normalized hidden-state MSE against the frozen teacher.</summary>
internal sealed class HiddenStateObjective : IStageObjective
{
    private static readonly ForwardOptions WithHidden = new() { OutputHiddenStates = true };
    private readonly CausalLanguageModel _teacher;
    private readonly double _weight;

    public HiddenStateObjective(CausalLanguageModel student, CausalLanguageModel teacher, double weight)
    {
        StageModels.RequireSameShape(student, teacher, "stage1.9 distils layer by layer");
        Student = student;
        _teacher = StageModels.Freeze(teacher);
        _weight = weight;
    }

    public CausalLanguageModel Student { get; }

    public Tensor Compute(Tensor ids, Dictionary<string, double> terms)
    {
        ModelOutput teacher;
        using (no_grad())
        {
            teacher = _teacher.Forward(ids, WithHidden);
        }

        var student = Student.Forward(ids, WithHidden);
        var ce = LanguageModelLoss.Compute(student.Logits, ids);
        var hidden = HiddenStateDistillationLoss.Compute(student.HiddenStates!, teacher.HiddenStates!);
        terms["ce"] = terms.GetValueOrDefault("ce") + ce.item<float>();
        terms["hidden"] = terms.GetValueOrDefault("hidden") + hidden.item<float>();
        return ce + (_weight * hidden);
    }

    public void Dispose()
    {
        Student.Dispose();
        _teacher.Dispose();
    }
}
