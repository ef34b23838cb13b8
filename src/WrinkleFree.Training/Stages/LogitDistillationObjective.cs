using WrinkleFree.Training.Losses;
using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>Stage 3: CE + λ·KL(teacher ‖ student, T) + γ·MiniLM attention relation at one layer (Losses/DistillationObjective).</summary>
internal sealed class LogitDistillationObjective : TeacherStudentObjective
{
    private readonly DistillationObjective _objective;
    private readonly ForwardOptions _studentOptions;
    private readonly ForwardOptions _teacherOptions;

    public LogitDistillationObjective(CausalLanguageModel student, CausalLanguageModel teacher, DistillationObjective objective)
        : base(student, RequireSameVocabulary(student, teacher))
    {
        _objective = objective;
        int? studentLayer = null;
        int? teacherLayer = null;
        if (objective.Gamma != 0)
        {
            studentLayer = objective.LayerFor(student.Config.NumHiddenLayers);
            teacherLayer = objective.Layer is null ? teacher.Config.NumHiddenLayers - 1 : studentLayer;
            if (studentLayer >= student.Config.NumHiddenLayers || teacherLayer >= teacher.Config.NumHiddenLayers || studentLayer < 0)
            {
                throw new TrainingConfigurationException(
                    $"--ar-layer {objective.Layer} is outside the models ({student.Config.NumHiddenLayers} student and {teacher.Config.NumHiddenLayers} teacher layers, 0-based)");
            }
        }

        _studentOptions = new ForwardOptions { CaptureAttentionLayer = studentLayer };
        _teacherOptions = new ForwardOptions { CaptureAttentionLayer = teacherLayer };
    }

    public override Tensor Compute(Tensor ids, Dictionary<string, double> terms)
    {
        var teacher = TeacherForward(ids, _teacherOptions);
        var student = Student.Forward(ids, _studentOptions);
        var loss = _objective.Compute(student, teacher, ids);
        terms.Accumulate("ce", loss.CrossEntropy);
        terms.Accumulate("kl", loss.LogitKl);
        terms.Accumulate("ar", loss.AttentionRelation);
        return loss.Total;
    }

    private static CausalLanguageModel RequireSameVocabulary(CausalLanguageModel student, CausalLanguageModel teacher)
    {
        if (student.Config.VocabSize != teacher.Config.VocabSize)
        {
            throw new TrainingConfigurationException(
                $"stage3 compares logits: the student has {student.Config.VocabSize} tokens and the teacher {teacher.Config.VocabSize}; use the teacher the student came from");
        }

        return teacher;
    }
}
