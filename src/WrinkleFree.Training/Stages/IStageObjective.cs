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

/// <summary>The loss terms of the steps since the last log line, summed by name.</summary>
internal static class LossTerms
{
    /// <summary>Adds the value of the scalar <paramref name="value"/> to the term <paramref name="name"/>.</summary>
    public static void Accumulate(this Dictionary<string, double> terms, string name, Tensor value) =>
        terms[name] = terms.GetValueOrDefault(name) + value.item<float>();
}
