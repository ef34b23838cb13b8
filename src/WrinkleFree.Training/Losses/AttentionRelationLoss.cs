using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Losses;

/// <summary>
/// MiniLM-v2 multi-head self-attention relation distillation on one layer: for each of Q, K and V the heads are
/// concatenated ([B, T, H·D]) and re-split into a fixed number of relation heads R, so teacher and student may have
/// different head counts; relation = softmax(X Xᵀ / √(H·D/R)) per relation head ([B, R, T, T]); the loss is
/// KL(teacher relation ‖ student relation) averaged over rows, relation heads and batch, then averaged over Q, K and V.
/// </summary>
public static class AttentionRelationLoss
{
    public static Tensor Compute(AttentionCapture student, AttentionCapture teacher, int relationHeads)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var q = Relation(student.Query, teacher.Query, relationHeads, "Q");
        var k = Relation(student.Key, teacher.Key, relationHeads, "K");
        var v = Relation(student.Value, teacher.Value, relationHeads, "V");
        return (q + k + v) / 3.0;
    }

    /// <summary>KL between the relation matrices of one of Q, K or V ([B, H, T, D] each).</summary>
    public static Tensor Relation(Tensor student, Tensor teacher, int relationHeads, string what = "X")
    {
        var logRs = LogRelations(student, relationHeads, "student " + what);
        var logRt = LogRelations(teacher.detach(), relationHeads, "teacher " + what);
        if (!logRs.shape.SequenceEqual(logRt.shape))
        {
            throw new ArgumentException($"student and teacher {what} differ in batch or length: [{string.Join(", ", logRs.shape)}] vs [{string.Join(", ", logRt.shape)}]");
        }

        return (logRt.exp() * (logRt - logRs)).sum(-1).mean();
    }

    /// <summary>log softmax(X Xᵀ/√d) over [B, R, T, T] for X = [B, H, T, D] re-split into <paramref name="relationHeads"/> heads.</summary>
    public static Tensor LogRelations(Tensor x, int relationHeads, string what = "X")
    {
        if (x.dim() != 4)
        {
            throw new ArgumentException($"{what} must be [B, H, T, D], got [{string.Join(", ", x.shape)}]");
        }

        var (b, h, t, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
        if (relationHeads <= 0 || h * d % relationHeads != 0)
        {
            throw new ArgumentException($"{what}: {h}·{d} = {h * d} values per token do not split into {relationHeads} relation heads");
        }

        var dr = h * d / relationHeads;
        var split = x.transpose(1, 2).reshape(b, t, relationHeads, dr).transpose(1, 2);
        var scores = split.matmul(split.transpose(-1, -2)) / Math.Sqrt(dr);
        return nn.functional.log_softmax(scores, -1);
    }
}
