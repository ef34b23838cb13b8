using TorchSharp;
using WrinkleFree.Training.Losses;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests.Losses;

[Collection(TorchCollection.Name)]
public sealed class LossTests
{
    private static readonly double Ln2 = Math.Log(2);

    public LossTests() => _ = TestTorch.Tiny();

    [Fact]
    public void LanguageModelLoss_HandExample_ShiftsAndIgnores()
    {
        // Position 0 logits [0, ln3] → p = [1/4, 3/4]; position 1 logits [1, 1] → p = [1/2, 1/2]; position 2 is never scored.
        var logits = torch.tensor(new[] { 0f, (float)Math.Log(3), 1f, 1f, 5f, -5f }, [1, 3, 2]);
        var labels = torch.tensor(new long[] { 1, 0, 1 }, [1, 3]);
        // Label 0 at t = 1 has p 1/4 (ln 4), label 1 at t = 2 has p 1/2 (ln 2).
        Assert.Equal(1.5 * Ln2, LanguageModelLoss.Compute(logits, labels).item<float>(), 5);
        var ignored = torch.tensor(new long[] { 1, 0, LanguageModelLoss.IgnoreIndex }, [1, 3]);
        Assert.Equal(2 * Ln2, LanguageModelLoss.Compute(logits, ignored).item<float>(), 5);
    }

    [Fact]
    public void HiddenStateDistillation_HandExample_NormalizedMseWithProgressiveWeights()
    {
        var zero = torch.zeros(1, 1, 2);
        var teacher = new[] { zero, torch.tensor(new[] { 1f, 2f }, [1, 1, 2]), torch.tensor(new[] { 2f, 0f }, [1, 1, 2]) };
        var student = new[] { zero, torch.tensor(new[] { 1f, 1f }, [1, 1, 2]), torch.zeros(1, 1, 2) };
        // Layer 1: ‖(0, −1)‖² / ‖(1, 2)‖² = 1/5, weight 1/3; layer 2: 4/4 = 1, weight 2/3.
        Assert.Equal(0.2 / 3 + 2.0 / 3, HiddenStateDistillationLoss.Compute(student, teacher).item<float>(), 5);
        Assert.Equal(4.0 / 10, HiddenStateDistillationLoss.LayerWeight(4, 4), 12);
    }

    [Fact]
    public void LogitDistillation_HandExample_KlTeacherStudentTimesTSquared()
    {
        // T = 2: teacher logits [0, 2 ln 3] → softmax([0, ln 3]) = [1/4, 3/4]; student [0, 0] → [1/2, 1/2].
        var teacher = torch.tensor(new[] { 0f, (float)(2 * Math.Log(3)) }, [1, 1, 2]);
        var student = torch.zeros(1, 1, 2);
        var kl = 0.25 * Math.Log(0.25 / 0.5) + 0.75 * Math.Log(0.75 / 0.5);
        Assert.Equal(4 * kl, LogitDistillationLoss.Compute(student, teacher, 2).item<float>(), 5);
        Assert.Equal(0, LogitDistillationLoss.Compute(teacher, teacher, 2).item<float>(), 6);
    }

    [Fact]
    public void AttentionRelation_HandExample_SoftmaxRelationsKl()
    {
        // Teacher X: 2 heads of D = 1 over T = 2; concatenated per token: t0 = (1, 0), t1 = (0, 1), so X Xᵀ = I.
        // One relation head (d = 2): rows softmax([1/√2, 0]) and softmax([0, 1/√2]); student X = 0 gives uniform rows.
        var teacherX = torch.tensor(new[] { 1f, 0f, 0f, 1f }, [1, 2, 2, 1]);
        var studentX = torch.zeros(1, 2, 2, 1);
        var a = 1 / Math.Sqrt(2);
        var p = Math.Exp(a) / (Math.Exp(a) + 1);
        var kl = p * Math.Log(p / 0.5) + (1 - p) * Math.Log((1 - p) / 0.5);
        var loss = AttentionRelationLoss.Compute(new AttentionCapture(studentX, studentX, studentX), new AttentionCapture(teacherX, teacherX, teacherX), 1);
        Assert.Equal(kl, loss.item<float>(), 5);
    }

    [Fact]
    public void AttentionRelation_DifferentHeadCounts_SameConcatenationGivesZero()
    {
        // Teacher 4 heads × 2 dims, student 2 heads × 4 dims holding the same 8 values per token: equal relations.
        var teacher = torch.randn(2, 4, 5, 2);
        var student = teacher.transpose(1, 2).reshape(2, 5, 2, 4).transpose(1, 2);
        Assert.Equal(0, AttentionRelationLoss.Relation(student, teacher, 2).item<float>(), 5);
        Assert.Throws<ArgumentException>(() => AttentionRelationLoss.Relation(student, teacher, 3));
    }

    [Fact]
    public void DistillationObjective_Combination_IsCePlusLambdaKlPlusGammaAr()
    {
        var config = TestTorch.Tiny();
        using var teacher = new CausalLanguageModel(config);
        using var student = SubLnConverter.Convert(teacher);
        var objective = DistillationObjective.Summarization with { Layer = 0 };
        var ids = TestTorch.Tokens(2, 6, config.VocabSize);
        var options = new ForwardOptions { CaptureAttentionLayer = objective.LayerFor(config.NumHiddenLayers) };
        var terms = objective.Compute(student.Forward(ids, options), teacher.Forward(ids, options), ids);
        var expected = terms.CrossEntropy.item<float>() + 1 * terms.LogitKl.item<float>() + 1e3 * terms.AttentionRelation.item<float>();
        Assert.Equal(expected, terms.Total.item<float>(), 3);
        Assert.True(terms.LogitKl.item<float>() > 0 && terms.AttentionRelation.item<float>() > 0);
        terms.Total.backward();
        Assert.NotNull(student.NamedParameters()["model.layers.0.self_attn.q_proj.weight"].grad);
        Assert.Equal((10.0, 1e5), (DistillationObjective.Classification.Lambda, DistillationObjective.Classification.Gamma));
    }
}
