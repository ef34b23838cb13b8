using System.Runtime.CompilerServices;
using System.Net;
using k8s;
using WrinkleFree.Providers.Kubernetes.Pods;

namespace WrinkleFree.Providers.Kubernetes;

public sealed partial class KubernetesProvider
{
    /// <inheritdoc />
    /// <remarks>The container's log through the API (pods/log with tailLines and follow): it ends when the container does.</remarks>
    public async IAsyncEnumerable<string> GetLogsAsync(Service.Providers.ReplicaHandle handle, int? tail, bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var (connection, name, ns) = Locate(handle);
        Stream body;
        try
        {
            var response = await connection.Client.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(
                name, ns, container: ReplicaPodBuilder.ContainerName, follow: follow, tailLines: tail, cancellationToken: cancellationToken).ConfigureAwait(false);
            body = response.Body;
        }
        catch (Exception e) when (KubernetesApiErrors.StatusOf(e) is not null)
        {
            throw KubernetesApiErrors.Is(e, HttpStatusCode.NotFound)
                ? new InvalidOperationException($"kubernetes: pod {name} in namespace {ns} is gone, and its log with it", e)
                : KubernetesApiErrors.Describe(e, "get", "pods/log", ns, connection.Context);
        }

        using var reader = new StreamReader(body);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            yield return line;
    }
}
