namespace WrinkleFree.Providers.Cloud.Tests.Service;

/// <summary>The whole-service tests run one at a time: each runs several `wf replica` processes.</summary>
[CollectionDefinition(nameof(CloudServiceTests), DisableParallelization = true)]
public sealed class CloudServiceCollection;
