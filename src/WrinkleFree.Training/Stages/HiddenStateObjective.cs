using WrinkleFree.Training.Losses;
using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>Stage 1.9: LM loss plus weight · layer-wise normalized hidden-state MSE against the frozen teacher.</summary>
internal sealed class HiddenStateObjective : TeacherStudentObjective
{
    private static readonly ForwardOptions WithHidden = new() { OutputHiddenStates = true };
    private readonly double _weight;

    public HiddenStateObjective(CausalLanguageModel student, CausalLanguageModel teacher, double weight)
        : base(student, RequireSameShape(student, teacher))
    {
        _weight = weight;
    }

    public override Tensor Compute(Tensor ids, Dictionary<string, double> terms)
    {
        var teacher = TeacherForward(ids, WithHidden);
        var student = Student.Forward(ids, WithHidden);
        var ce = LanguageModelLoss.Compute(student.Logits, ids);
        var hidden = HiddenStateDistillationLoss.Compute(student.HiddenStates!, teacher.HiddenStates!);
        terms.Accumulate("ce", ce);
        terms.Accumulate("hidden", hidden);
        return ce + (_weight * hidden);
    }

    private static CausalLanguageModel RequireSameShape(CausalLanguageModel student, CausalLanguageModel teacher)
    {
        StageModels.RequireSameShape(student, teacher, "stage1.9 distils layer by layer");
        return teacher;
    }
}
