using k8s;
using k8s.Models;
using WrinkleFree.Cli.Export;
using WrinkleFree.Service.Spec;
using WrinkleFree.Testing;

namespace WrinkleFree.Cli.Tests.Export;

/// <summary>
/// `wf export kubernetes SPEC` in-process: snapshots of the manifests for the shipped specs, the YAML read back by
/// KubernetesClient into the model types the API server takes, deploy/kubernetes/*.yaml held to the export and to the one
/// RBAC list, --out's numbered files, and exit 2 with errors naming what was wrong.
/// </summary>
public sealed class KubernetesExportTests
{
    private static readonly Type[] Kinds =
    [
        typeof(V1Namespace), typeof(V1ServiceAccount), typeof(V1Role), typeof(V1RoleBinding), typeof(V1ClusterRole),
        typeof(V1ClusterRoleBinding), typeof(V1ConfigMap), typeof(V1PersistentVolumeClaim), typeof(V1Deployment), typeof(V1Service),
    ];

    [Theory]
    [InlineData("service-hybrid.yaml")]
    [InlineData("service-prod.yaml")]
    public async Task Kubernetes_ShippedSpec_MatchesSnapshot(string spec)
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("export", "kubernetes", Deploy(spec));

        Assert.True(code == ExitCodes.Success, console.Stderr);
        Snapshot.AssertMatches(Path.Combine("kubernetes", Path.ChangeExtension(spec, ".k8s.yaml")), console.Stdout);
    }

    [Fact]
    public async Task Kubernetes_HybridSpec_DeserializesIntoModelTypes()
    {
        using var console = new InProcessConsole();

        var code = await console.RunAsync("export", "kubernetes", Deploy("service-hybrid.yaml"), "--image", "registry.example/wf:1.2");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var objects = KubernetesYaml.LoadAllFromString(console.Stdout);
        Assert.Equal(Kinds, objects.Select(o => o.GetType()));
        var deployment = objects.OfType<V1Deployment>().Single();
        Assert.Equal("wrinklefree", deployment.Metadata.NamespaceProperty);
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("Recreate", deployment.Spec.Strategy.Type);
        Assert.Equal("wrinklefree-hybrid", deployment.Spec.Template.Metadata.Labels[KubernetesManifests.ServiceLabel]);
        Assert.Equal("registry.example/wf:1.2", deployment.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal("wrinklefree-hybrid-daemon", deployment.Spec.Template.Spec.ServiceAccountName);
        Assert.True(deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
        Assert.Contains("wf up /etc/wrinklefree/service.yaml --name wrinklefree-hybrid --detach", deployment.Spec.Template.Spec.Containers[0].Command[2], StringComparison.Ordinal);
        var service = objects.OfType<V1Service>().Single();
        Assert.Equal(8000, service.Spec.Ports.Single().Port);
        Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Equal("wrinklefree-hybrid-home", objects.OfType<V1PersistentVolumeClaim>().Single().Metadata.Name);

        // The spec the daemon gets parses, and its endpoint is where the Service sends traffic.
        var specYaml = objects.OfType<V1ConfigMap>().Single().Data[KubernetesManifests.SpecFile];
        var spec = ServiceSpecParser.Parse(specYaml);
        Assert.Equal("0.0.0.0", spec.Service.LoadBalancer.Host);
        Assert.Equal(8000, spec.Service.LoadBalancer.Port);
        Assert.Equal(3, spec.Tiers.Count);
        Assert.Contains("note: the spec in the ConfigMap is rewritten with service.load_balancer host 0.0.0.0 and port 8000", console.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("names no settings.image", console.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("note: image wrinklefree/wf:latest", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_TierWithoutImage_NoteSaysToBuildAndSetOne()
    {
        using var console = new InProcessConsole();
        Directory.CreateDirectory(console.Home);
        var spec = Path.Combine(console.Home, "hybrid-no-image.yaml");
        var lines = File.ReadAllLines(Deploy("service-hybrid.yaml")).Where(l => !l.TrimStart().StartsWith("image:", StringComparison.Ordinal));
        await File.WriteAllLinesAsync(spec, lines);

        var code = await console.RunAsync("export", "kubernetes", spec, "--image", "registry.example/wf:1.2");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        Assert.Contains("note: kubernetes tier 'ovh-k8s' names no settings.image: build the replica target", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_Rbac_IsKubernetesRbacRules()
    {
        using var console = new InProcessConsole();

        await console.RunAsync("export", "kubernetes", Deploy("service-hybrid.yaml"), "--namespace", "serving");

        var objects = KubernetesYaml.LoadAllFromString(console.Stdout);
        Assert.Equal(Rules(KubernetesRbac.NamespaceRules), Rules(objects.OfType<V1Role>().Single().Rules));
        var clusterRole = objects.OfType<V1ClusterRole>().Single();
        Assert.Equal(Rules(KubernetesRbac.ClusterRules), Rules(clusterRole.Rules));
        Assert.Equal(["serving"], clusterRole.Rules.Single().ResourceNames);
        Assert.All(objects.Where(o => o is not V1Namespace and not V1ClusterRole and not V1ClusterRoleBinding), o => Assert.Equal("serving", ((IMetadata<V1ObjectMeta>)o).Metadata.NamespaceProperty));
    }

    [Fact]
    public void DeployRbacYaml_IsKubernetesRbacRules()
    {
        var objects = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "kubernetes", "rbac.yaml")));

        Assert.Equal(Rules(KubernetesRbac.NamespaceRules), Rules(objects.OfType<V1Role>().Single().Rules));
        Assert.Equal(Rules(KubernetesRbac.ClusterRules), Rules(objects.OfType<V1ClusterRole>().Single().Rules));
        var binding = objects.OfType<V1RoleBinding>().Single();
        Assert.Equal(objects.OfType<V1ServiceAccount>().Single().Metadata.Name, binding.Subjects.Single().Name);
        Assert.Equal(objects.OfType<V1Role>().Single().Metadata.Name, binding.RoleRef.Name);
    }

    [Theory]
    [InlineData("rbac.yaml")]
    [InlineData("daemon.yaml")]
    public async Task DeployYaml_IsTheExportOfTheHybridSpec(string file)
    {
        using var console = new InProcessConsole();
        await console.RunAsync("export", "kubernetes", Deploy("service-hybrid.yaml"));
        var exported = KubernetesYaml.LoadAllFromString(console.Stdout).Select(KubernetesYaml.Serialize).ToList();

        var shipped = KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "kubernetes", file)));

        Assert.NotEmpty(shipped);
        Assert.All(shipped, o => Assert.Contains(KubernetesYaml.Serialize(o), exported));
    }

    [Fact]
    public async Task Kubernetes_Out_OneNumberedFilePerKind()
    {
        using var console = new InProcessConsole();
        var output = Path.Combine(console.Home, "k8s");

        var code = await console.RunAsync("export", "kubernetes", Deploy("service-prod.yaml"), "--out", output, "--endpoint-port", "9000", "--storage", "20Gi");

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var files = Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["00-namespace.yaml", "10-serviceaccount.yaml", "11-role.yaml", "12-rolebinding.yaml", "13-clusterrole.yaml", "14-clusterrolebinding.yaml",
             "20-configmap.yaml", "21-persistentvolumeclaim.yaml", "30-deployment.yaml", "31-service.yaml"],
            files);
        var kinds = files.Select(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(output, f!))).Single().GetType());
        Assert.Equal(Kinds, kinds);
        var claim = (V1PersistentVolumeClaim)KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(output, "21-persistentvolumeclaim.yaml"))).Single();
        Assert.Equal("20Gi", claim.Spec.Resources.Requests["storage"].ToString());
        var service = (V1Service)KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(output, "31-service.yaml"))).Single();
        Assert.Equal("service-prod", service.Metadata.Name);
        Assert.Equal(9000, service.Spec.Ports.Single().Port);
        Assert.Equal($"wrote 10 files to {output}; review them, then: kubectl apply -f {output}\n", console.Stdout);
    }

    [Fact]
    public async Task Kubernetes_SpecWithFixedEndpoint_KeptAsWritten()
    {
        using var console = new InProcessConsole();
        const string yaml = "# comments stay\nname: edge\nservice:\n  replicas: 1\n  load_balancer:\n    host: 0.0.0.0\n    port: 8443\n";
        var spec = await WriteAsync(console, yaml);

        var code = await console.RunAsync("export", "kubernetes", spec);

        Assert.True(code == ExitCodes.Success, console.Stderr);
        var objects = KubernetesYaml.LoadAllFromString(console.Stdout);
        Assert.Equal(yaml, objects.OfType<V1ConfigMap>().Single().Data[KubernetesManifests.SpecFile]);
        Assert.Equal(8443, objects.OfType<V1Service>().Single().Spec.Ports.Single().Port);
        Assert.DoesNotContain("rewritten", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubernetes_BadSpec_ExitTwoWithTheSpecReadersLine()
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, "service:\n  replicas: 1\n  readiness_probe:\n    period_seconds: 5\n    path: /health\n");

        var code = await console.RunAsync("export", "kubernetes", spec);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("", console.Stdout);
        Assert.StartsWith($"error: {spec}: service.readiness_probe.period_seconds (line 4, column 5): ", console.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("service:\n  replicas: 1\nworkdir: .\n", new string[0], "workdir (line 3, column 1): a local folder cannot travel in a ConfigMap")]
    [InlineData("service:\n  replicas: 1\n", new[] { "--namespace", "Bad_NS" }, "--namespace 'Bad_NS' is not a Kubernetes namespace name")]
    [InlineData("service:\n  replicas: 1\n", new[] { "--storage", "lots" }, "--storage 'lots' is not a Kubernetes quantity")]
    [InlineData("service:\n  replicas: 1\n  load_balancer:\n    port: 8443\n", new[] { "--endpoint-port", "9000" }, "--endpoint-port 9000 disagrees with the spec's service.load_balancer.port 8443")]
    public async Task Kubernetes_WhatCannotBeCarried_ExitTwoNamingIt(string yaml, string[] options, string expected)
    {
        using var console = new InProcessConsole();
        var spec = await WriteAsync(console, yaml);

        var code = await console.RunAsync(["export", "kubernetes", spec, .. options]);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Equal("", console.Stdout);
        Assert.Contains(expected, console.Stderr, StringComparison.Ordinal);
    }

    private static List<string> Rules(IEnumerable<KubernetesRbac.Rule> rules) =>
        [.. rules.Select(r => $"{r.ApiGroup}/{r.Resource}: {string.Join(",", r.Verbs)}")];

    private static List<string> Rules(IEnumerable<V1PolicyRule> rules) =>
        [.. rules.SelectMany(r => r.Resources.Select(resource => $"{r.ApiGroups.Single()}/{resource}: {string.Join(",", r.Verbs)}"))];

    private static string Deploy(string file) => Path.Combine(RepositoryPaths.Root, "deploy", file);

    private static async Task<string> WriteAsync(InProcessConsole console, string yaml)
    {
        Directory.CreateDirectory(console.Home);
        var path = Path.Combine(console.Home, "edge.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
