using static TorchSharp.torch;

namespace WrinkleFree.Training.Losses;

/// <summary>The stage-3 total and its unweighted terms (scalars), for logging.</summary>
public sealed record DistillationLossTerms(Tensor Total, Tensor CrossEntropy, Tensor LogitKl, Tensor AttentionRelation);
