using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>A stage that trains the student against a frozen full-precision teacher (stages 1.9 and 3).</summary>
internal abstract class TeacherStudentObjective : IStageObjective
{
    private readonly CausalLanguageModel _teacher;

    protected TeacherStudentObjective(CausalLanguageModel student, CausalLanguageModel teacher)
    {
        Student = student;
        _teacher = StageModels.Freeze(teacher);
    }

    public CausalLanguageModel Student { get; }

    public abstract Tensor Compute(Tensor ids, Dictionary<string, double> terms);

    /// <summary>The teacher's forward pass, outside the autograd graph.</summary>
    protected ModelOutput TeacherForward(Tensor ids, ForwardOptions options)
    {
        using (no_grad())
        {
            return _teacher.Forward(ids, options);
        }
    }

    public void Dispose()
    {
        Student.Dispose();
        _teacher.Dispose();
    }
}
