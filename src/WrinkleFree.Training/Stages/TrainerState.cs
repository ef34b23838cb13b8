using System.Text.Json;
using System.Text.Json.Serialization;

namespace WrinkleFree.Training.Stages;

/// <summary>The trainer's part of a checkpoint (trainer_state.json): step, data position and what the run was.</summary>
internal sealed record TrainerState
{
    public const string FileName = "trainer_state.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public required string Stage { get; init; }

    public required long Step { get; init; }

    public required int Epoch { get; init; }

    public required long SequenceInEpoch { get; init; }

    public required long TokensSeen { get; init; }

    public required string Data { get; init; }

    public required long Seed { get; init; }

    public required int SequenceLength { get; init; }

    public required int BatchSize { get; init; }

    [JsonIgnore]
    public string Describe => $"stage {Stage}, data {Data}, seed {Seed}, seq-len {SequenceLength}, batch {BatchSize}";

    public static TrainerState Load(string directory) =>
        JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(directory, FileName)), Json)
        ?? throw new InvalidDataException($"{Path.Combine(directory, FileName)} is empty");

    public void Save(string directory) => File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json));
}
