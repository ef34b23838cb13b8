using System.Collections.Concurrent;
using System.Text;
using Amazon;
using Amazon.EC2;
using Amazon.EC2.Model;
using WrinkleFree.Providers.Cloud.Compute;

namespace WrinkleFree.Providers.Cloud.Aws;

/// <summary>
/// EC2 through AWSSDK.EC2, one client per region: RunInstances (idempotent by ClientToken, spot as a one-time request
/// whose interruption terminates), DescribeInstances by id or by tag filters, TerminateInstances. Errors are mapped onto
/// the seam's capacity / quota / API exceptions by EC2's error code.
/// </summary>
public sealed partial class AwsCompute(AwsComputeOptions? options = null) : ICloudCompute, IDisposable
{
    private readonly AwsComputeOptions _options = options ?? new AwsComputeOptions();
    private readonly ConcurrentDictionary<string, AmazonEC2Client> _clients = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Infra => "aws";

    /// <inheritdoc />
    public async Task<CloudInstance> LaunchAsync(CloudLaunch launch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var request = new RunInstancesRequest
        {
            ImageId = launch.Image,
            InstanceType = InstanceType.FindValue(launch.InstanceType),
            MinCount = 1,
            MaxCount = 1,
            ClientToken = launch.ClientToken,
            UserData = Convert.ToBase64String(Encoding.UTF8.GetBytes(launch.UserData)),
            Placement = new Placement { AvailabilityZone = launch.Zone },
            TagSpecifications =
            [
                new TagSpecification
                {
                    ResourceType = ResourceType.Instance,
                    Tags = [.. launch.Tags.Append(new("Name", launch.Name)).DistinctBy(t => t.Key).Select(t => new Tag(t.Key, t.Value))],
                },
            ],
        };
        if (launch.Spot)
        {
            request.InstanceMarketOptions = new InstanceMarketOptionsRequest
            {
                MarketType = MarketType.Spot,
                // One-time and terminate: a reclaimed replica is replaced by the provider, possibly in another zone,
                // never resumed later by EC2 behind the controller's back.
                SpotOptions = new SpotMarketOptions { SpotInstanceType = SpotInstanceType.OneTime, InstanceInterruptionBehavior = InstanceInterruptionBehavior.Terminate },
            };
        }

        foreach (var (key, value) in launch.Network)
        {
            switch (key)
            {
                case AwsNetworkKeys.KeyName:
                    request.KeyName = value;
                    break;
                case AwsNetworkKeys.SubnetId:
                    request.SubnetId = value;
                    break;
                case AwsNetworkKeys.SecurityGroupIds:
                    request.SecurityGroupIds = [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    break;
                default:
                    throw new ArgumentException($"aws: network setting '{key}' is not one EC2 launches with; known: {AwsNetworkKeys.KeyName}, {AwsNetworkKeys.SubnetId}, {AwsNetworkKeys.SecurityGroupIds}", nameof(launch));
            }
        }

        var response = await CallAsync("RunInstances", launch.Region, c => c.RunInstancesAsync(request, cancellationToken)).ConfigureAwait(false);
        var instance = response.Reservation?.Instances?.FirstOrDefault()
            ?? throw new CloudApiException($"aws: RunInstances in {launch.Zone} answered without an instance");
        return Map(instance, launch.Region);
    }

    /// <inheritdoc />
    public async Task<CloudInstance?> DescribeAsync(CloudInstanceRef instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        try
        {
            var response = await CallAsync("DescribeInstances", instance.Region,
                c => c.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instance.Id] }, cancellationToken)).ConfigureAwait(false);
            var found = (response.Reservations ?? []).SelectMany(r => r.Instances ?? []).FirstOrDefault(i => i.InstanceId == instance.Id);
            return found is null ? null : Map(found, instance.Region);
        }
        catch (CloudApiException e) when (e.Code == "InvalidInstanceID.NotFound")
        {
            return null;
        }
    }

    /// <inheritdoc />
    /// <remarks>The locations are regions (a zone names its region by dropping the trailing letter).</remarks>
    public async Task<IReadOnlyList<CloudInstance>> ListAsync(IReadOnlyList<string> locations, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(locations);
        ArgumentNullException.ThrowIfNull(tags);
        var result = new List<CloudInstance>();
        foreach (var region in locations.Select(RegionOf).Distinct(StringComparer.Ordinal))
        {
            var request = new DescribeInstancesRequest { Filters = [.. tags.Select(t => new Filter($"tag:{t.Key}", [t.Value]))] };
            do
            {
                var response = await CallAsync("DescribeInstances", region, c => c.DescribeInstancesAsync(request, cancellationToken)).ConfigureAwait(false);
                result.AddRange((response.Reservations ?? []).SelectMany(r => r.Instances ?? []).Select(i => Map(i, region)));
                request.NextToken = response.NextToken;
            }
            while (!string.IsNullOrEmpty(request.NextToken));
        }

        return result;
    }

    /// <inheritdoc />
    public async Task TerminateAsync(CloudInstanceRef instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        try
        {
            await CallAsync("TerminateInstances", instance.Region,
                c => c.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instance.Id] }, cancellationToken)).ConfigureAwait(false);
        }
        catch (CloudApiException e) when (e.Code == "InvalidInstanceID.NotFound")
        {
            // Gone long enough that EC2 forgot it: terminated either way.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var client in _clients.Values)
            client.Dispose();
        _clients.Clear();
    }

    /// <summary>The region of a zone (us-east-1a → us-east-1; a Local Zone us-west-2-lax-1a → us-west-2); a region is itself.</summary>
    public static string RegionOf(string location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var parts = location.Split('-');
        // Regions are AREA-DIRECTION-N; anything longer or ending in a letter is a zone within one.
        if (parts.Length >= 3 && parts[2].Length > 0 && parts[2].All(char.IsAsciiDigit))
            return string.Join('-', parts[..3]);
        if (parts.Length >= 3 && parts[2].Length > 1 && char.IsAsciiLetter(parts[2][^1]) && parts[2][..^1].All(char.IsAsciiDigit))
            return string.Join('-', parts[0], parts[1], parts[2][..^1]);
        return location;
    }

    private AmazonEC2Client Client(string region) => _clients.GetOrAdd(region, r =>
    {
        var config = new AmazonEC2Config { MaxErrorRetry = _options.MaxErrorRetry };
        if (_options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = r;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(r);
        }

        return _options.Credentials is { } credentials ? new AmazonEC2Client(credentials, config) : new AmazonEC2Client(config);
    });

    private async Task<T> CallAsync<T>(string call, string region, Func<AmazonEC2Client, Task<T>> send)
    {
        try
        {
            return await send(Client(region)).ConfigureAwait(false);
        }
        catch (AmazonEC2Exception e)
        {
            throw AwsErrors.Map(call, region, e);
        }
        catch (Amazon.Runtime.AmazonServiceException e)
        {
            throw AwsErrors.Map(call, region, e);
        }
        catch (Amazon.Runtime.AmazonClientException e)
        {
            throw new CloudApiException($"aws: {call} in {region} failed before EC2 answered: {e.Message}", null, e);
        }
    }
}
