using System.Globalization;
using k8s.Models;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Providers.Kubernetes;

/// <summary>A kubernetes tier's <c>settings:</c>, read and checked once at the edge (<see cref="Parse"/>).</summary>
public sealed record KubernetesTierSettings
{
    /// <summary>The kubeconfig context; null: in-cluster when the daemon runs in a pod, else the kubeconfig's current one.</summary>
    public string? Context { get; init; }

    public required string Namespace { get; init; }

    /// <summary>The replica image: it must carry the serving <c>wf</c> on its PATH.</summary>
    public required string Image { get; init; }

    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<V1Toleration> Tolerations { get; init; } = [];

    public string? ServiceAccount { get; init; }

    public IReadOnlyList<string> ImagePullSecrets { get; init; } = [];

    public KubernetesModelSource? Model { get; init; }

    /// <summary>
    /// Reads <paramref name="settings"/>; throws <see cref="ServiceSpecException"/> at <c>{keyPath}.KEY</c> naming an
    /// unknown key (with the known ones), a missing namespace or image, or a value of the wrong shape.
    /// </summary>
    public static KubernetesTierSettings Parse(IReadOnlyDictionary<string, object?> settings, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var key in settings.Keys)
        {
            if (!KubernetesSettings.Keys.Contains(key, StringComparer.Ordinal))
                throw new ServiceSpecException($"{keyPath}.{key}", $"unknown setting of a kubernetes tier; known: {string.Join(", ", KubernetesSettings.Keys)}");
        }

        return new KubernetesTierSettings
        {
            Context = OptionalString(settings, "context", keyPath),
            Namespace = OptionalString(settings, "namespace", keyPath)
                ?? throw new ServiceSpecException($"{keyPath}.namespace", "a kubernetes tier needs settings: {namespace: NAME}, the namespace its pods are created in"),
            Image = OptionalString(settings, "image", keyPath)
                ?? throw new ServiceSpecException($"{keyPath}.image", "a kubernetes tier needs settings: {image: REF}, an image with the serving wf on its PATH"),
            NodeSelector = StringMap(settings, "node_selector", keyPath),
            Tolerations = ReadTolerations(settings, keyPath),
            ServiceAccount = OptionalString(settings, "service_account", keyPath),
            ImagePullSecrets = StringList(settings, "image_pull_secrets", keyPath),
            Model = settings.GetValueOrDefault("model") is { } model ? KubernetesModelSource.Parse(model, $"{keyPath}.model") : null,
        };
    }

    private static string? OptionalString(IReadOnlyDictionary<string, object?> settings, string key, string keyPath) =>
        settings.GetValueOrDefault(key) switch
        {
            null => null,
            string { Length: > 0 } s => s,
            _ => throw new ServiceSpecException($"{keyPath}.{key}", "must be a non-empty string"),
        };

    private static Dictionary<string, string> StringMap(IReadOnlyDictionary<string, object?> settings, string key, string keyPath)
    {
        var value = settings.GetValueOrDefault(key);
        if (value is null)
            return [];
        if (value is not IReadOnlyDictionary<string, object?> map)
            throw new ServiceSpecException($"{keyPath}.{key}", "must be a map of label names to values, e.g. {node.kubernetes.io/instance-type: m7i.4xlarge}");
        return map.ToDictionary(p => p.Key, p => Scalar(p.Value) ?? throw new ServiceSpecException($"{keyPath}.{key}.{p.Key}", "must be a string"), StringComparer.Ordinal);
    }

    private static List<string> StringList(IReadOnlyDictionary<string, object?> settings, string key, string keyPath) =>
        settings.GetValueOrDefault(key) switch
        {
            null => [],
            IReadOnlyList<object?> list => [.. list.Select((v, i) => v as string is { Length: > 0 } s ? s : throw new ServiceSpecException($"{keyPath}.{key}[{i}]", "must be a secret's name"))],
            _ => throw new ServiceSpecException($"{keyPath}.{key}", "must be a list of secret names"),
        };

    private static List<V1Toleration> ReadTolerations(IReadOnlyDictionary<string, object?> settings, string keyPath)
    {
        string[] known = ["key", "operator", "value", "effect", "toleration_seconds"];
        var value = settings.GetValueOrDefault("tolerations");
        if (value is null)
            return [];
        if (value is not IReadOnlyList<object?> list)
            throw new ServiceSpecException($"{keyPath}.tolerations", "must be a list of {key, operator, value, effect, toleration_seconds}");
        var result = new List<V1Toleration>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"{keyPath}.tolerations[{i}]";
            if (list[i] is not IReadOnlyDictionary<string, object?> item)
                throw new ServiceSpecException(at, "must be a map {key, operator, value, effect, toleration_seconds}");
            if (item.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.Ordinal)) is { } unknown)
                throw new ServiceSpecException($"{at}.{unknown}", $"unknown toleration field; known: {string.Join(", ", known)}");
            var op = Scalar(item.GetValueOrDefault("operator")) ?? "Equal";
            if (op is not ("Equal" or "Exists"))
                throw new ServiceSpecException($"{at}.operator", "must be Equal or Exists");
            var effect = Scalar(item.GetValueOrDefault("effect"));
            if (effect is not (null or "NoSchedule" or "PreferNoSchedule" or "NoExecute"))
                throw new ServiceSpecException($"{at}.effect", "must be NoSchedule, PreferNoSchedule or NoExecute");
            result.Add(new V1Toleration
            {
                Key = Scalar(item.GetValueOrDefault("key")),
                OperatorProperty = op,
                Value = Scalar(item.GetValueOrDefault("value")),
                Effect = effect,
                TolerationSeconds = item.GetValueOrDefault("toleration_seconds") switch
                {
                    null => null,
                    long seconds when seconds >= 0 => seconds,
                    _ => throw new ServiceSpecException($"{at}.toleration_seconds", "must be a whole number of seconds >= 0"),
                },
            });
        }

        return result;
    }

    // YAML reads `gpu: true` or `zone: 1` as a bool or a number; Kubernetes labels are strings either way.
    private static string? Scalar(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };
}
