using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Stages;

/// <summary>Loading and checking the models a stage starts from.</summary>
internal static class StageModels
{
    public static CausalLanguageModel Load(string? directory, string option)
    {
        if (string.IsNullOrEmpty(directory))
        {
            throw new TrainingConfigurationException($"{option} is required: the checkpoint directory this stage starts from");
        }

        if (!File.Exists(Path.Combine(directory, "config.json")))
        {
            throw new TrainingConfigurationException($"{option} '{directory}' is not a checkpoint directory (no config.json); give the --out of an earlier stage");
        }

        try
        {
            return CausalLanguageModel.Load(directory);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentException)
        {
            throw new TrainingConfigurationException($"{option} '{directory}': {e.Message}");
        }
    }

    public static CausalLanguageModel Freeze(CausalLanguageModel model)
    {
        foreach (var p in model.parameters())
        {
            p.requires_grad = false;
        }

        model.eval();
        return model;
    }

    public static void RequireSameShape(CausalLanguageModel student, CausalLanguageModel teacher, string why)
    {
        var s = student.Config;
        var t = teacher.Config;
        if (s.NumHiddenLayers != t.NumHiddenLayers || s.HiddenSize != t.HiddenSize || s.VocabSize != t.VocabSize)
        {
            throw new TrainingConfigurationException(
                $"{why}: student ({s.NumHiddenLayers} layers, hidden {s.HiddenSize}, vocab {s.VocabSize}) and teacher ({t.NumHiddenLayers} layers, hidden {t.HiddenSize}, vocab {t.VocabSize}) must match; use the teacher the student was converted from");
        }
    }
}
