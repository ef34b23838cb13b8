using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Gcp;

internal sealed partial class GceCompute
{
    /// <summary>
    /// Locations are zones (instances.list in each) or regions (one instances.aggregatedList, kept to that region's zones);
    /// the label match is done by GCE's filter, so a large project does not page every instance through here.
    /// </summary>
    public async Task<IReadOnlyList<CloudInstance>> ListAsync(IReadOnlyList<string> locations, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(tags);
        GceNames.RequireLabels(tags);
        foreach (var location in locations)
        {
            if (!GceNames.IsZone(location) && !GceNames.IsRegion(location))
                throw new ArgumentException($"gcp: location '{location}' is neither a zone (us-central1-a) nor a region (us-central1)", nameof(locations));
        }

        var filter = string.Join(" AND ", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"(labels.{t.Key} = \"{t.Value}\")"));
        var found = new List<CloudInstance>();
        var seen = new HashSet<(string Zone, string Name)>();
        var regions = locations.Where(GceNames.IsRegion).Distinct(StringComparer.Ordinal).ToList();
        if (regions.Count > 0)
        {
            foreach (var (zone, instance) in await AggregatedAsync(filter, cancellationToken).ConfigureAwait(false))
            {
                if (regions.Contains(RegionOf(zone)) && seen.Add((zone, instance.Name ?? "")))
                    found.Add(await ToCloudInstanceAsync(instance, zone, cancellationToken).ConfigureAwait(false));
            }
        }

        foreach (var zone in locations.Where(GceNames.IsZone).Distinct(StringComparer.Ordinal))
        {
            if (regions.Contains(RegionOf(zone)))
                continue;
            string? page = null;
            do
            {
                var query = Query(filter, page);
                using var response = await SendAsync(HttpMethod.Get, ZonePath(zone, "instances" + query), null, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                    throw await GceErrors.FromResponseAsync("instances.list", zone, response, cancellationToken).ConfigureAwait(false);
                var list = await ReadAsync(response, GceJsonContext.Default.GceInstanceList, "instances.list", zone, cancellationToken).ConfigureAwait(false);
                foreach (var instance in list.Items ?? [])
                {
                    if (seen.Add((zone, instance.Name ?? "")))
                        found.Add(await ToCloudInstanceAsync(instance, zone, cancellationToken).ConfigureAwait(false));
                }

                page = list.NextPageToken;
            }
            while (!string.IsNullOrEmpty(page));
        }

        return found;
    }

    private async Task<List<(string Zone, GceInstance Instance)>> AggregatedAsync(string filter, CancellationToken cancellationToken)
    {
        var result = new List<(string, GceInstance)>();
        string? page = null;
        do
        {
            var path = $"compute/v1/projects/{Uri.EscapeDataString(_project)}/aggregated/instances" + Query(filter, page);
            using var response = await SendAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw await GceErrors.FromResponseAsync("instances.aggregatedList", "(all)", response, cancellationToken).ConfigureAwait(false);
            var list = await ReadAsync(response, GceJsonContext.Default.GceInstanceAggregatedList, "instances.aggregatedList", "(all)", cancellationToken).ConfigureAwait(false);
            foreach (var (scope, scoped) in list.Items ?? [])
            {
                if (!scope.StartsWith("zones/", StringComparison.Ordinal))
                    continue;
                foreach (var instance in scoped.Instances ?? [])
                    result.Add((scope["zones/".Length..], instance));
            }

            page = list.NextPageToken;
        }
        while (!string.IsNullOrEmpty(page));
        return result;
    }

    private static string Query(string filter, string? page)
    {
        var parts = new List<string>();
        if (filter.Length > 0)
            parts.Add("filter=" + Uri.EscapeDataString(filter));
        if (page is not null)
            parts.Add("pageToken=" + Uri.EscapeDataString(page));
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
