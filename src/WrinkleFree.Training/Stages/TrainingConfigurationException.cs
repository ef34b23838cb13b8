namespace WrinkleFree.Training.Stages;

/// <summary>A stage was configured in a way that cannot work (bad option, incompatible models); retrying will not help.</summary>
public sealed class TrainingConfigurationException : Exception
{
    /// <summary>Creates the exception with a message naming the option and the fix.</summary>
    public TrainingConfigurationException(string message)
        : base(message)
    {
    }
}
