using System.Net.Http.Json;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

/// <summary>Waits for a zone operation by GETting it until DONE, on the injected clock, with a deadline.</summary>
internal sealed class GceOperations(GceCompute compute, GceOptions options, TimeProvider time)
{
    /// <summary>The finished operation; throws the mapped exception when it finished with errors or did not finish in time.</summary>
    public async Task<GceOperation> WaitAsync(string call, string zone, GceOperation operation, CancellationToken cancellationToken)
    {
        var name = operation.Name ?? throw new CloudApiException($"gcp: {call} in zone {zone} returned an operation without a name");
        using var deadline = new CancellationTokenSource(options.OperationTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            while (!string.Equals(operation.Status, "DONE", StringComparison.Ordinal))
            {
                await Task.Delay(options.PollInterval, time, linked.Token).ConfigureAwait(false);
                using var response = await compute.SendAsync(HttpMethod.Get, compute.ZonePath(zone, "operations/" + Uri.EscapeDataString(name)), null, linked.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                    throw await GceErrors.FromResponseAsync($"zoneOperations.get {name} (for {call})", zone, response, linked.Token).ConfigureAwait(false);
                operation = await response.Content.ReadFromJsonAsync(GceJsonContext.Default.GceOperation, linked.Token).ConfigureAwait(false)
                    ?? throw new CloudApiException($"gcp: zoneOperations.get {name} in zone {zone} returned no body");
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new CloudApiException($"gcp: {call} in zone {zone}: operation {name} not DONE after {options.OperationTimeout} (last status {operation.Status})", "OPERATION_TIMEOUT");
        }

        if (operation.Error is { Errors.Count: > 0 } || operation.HttpErrorStatusCode is >= 400)
            throw GceErrors.FromOperation(call, zone, operation);
        return operation;
    }
}
