namespace WrinkleFree.Training.Model;

/// <summary>The safetensors element types this project reads and writes.</summary>
public enum SafeTensorDType
{
    F32,
    F16,
    BF16,
}
