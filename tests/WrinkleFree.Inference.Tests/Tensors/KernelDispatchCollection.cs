namespace WrinkleFree.Inference.Tests.Tensors;

/// <summary>
/// Tests that pin <c>KernelDispatch.Current</c> (a process-wide setting) run alone, so no other test's multiplies switch
/// kernel family halfway through.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelDispatchCollection
{
    public const string Name = "kernel dispatch switching";
}
