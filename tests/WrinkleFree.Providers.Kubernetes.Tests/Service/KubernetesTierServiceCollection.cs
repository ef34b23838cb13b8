namespace WrinkleFree.Providers.Kubernetes.Tests.Service;

/// <summary>The whole-service tests run one at a time: each runs several `wf replica` processes.</summary>
[CollectionDefinition(nameof(KubernetesTierServiceTests), DisableParallelization = true)]
public sealed class KubernetesTierServiceCollection;
