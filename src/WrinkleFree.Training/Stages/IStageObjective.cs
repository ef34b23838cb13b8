using WrinkleFree.Training.Model;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>What differs between stages: the trained model, any frozen teacher, and the loss.</summary>
internal interface IStageObjective : IDisposable
{
    /// <summary>The model being trained.</summary>
    CausalLanguageModel Student { get; }

    /// <summary>The loss to back-propagate for token ids [B, T]; each term's value is added to <paramref name="terms"/>.</summary>
    Tensor Compute(Tensor ids, Dictionary<string, double> terms);
}
