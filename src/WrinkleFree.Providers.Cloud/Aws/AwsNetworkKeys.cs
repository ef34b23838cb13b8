namespace WrinkleFree.Providers.Cloud.Aws;

/// <summary>The <see cref="Compute.CloudLaunch.Network"/> keys EC2 launches with (the tier settings of the same names).</summary>
public static class AwsNetworkKeys
{
    public const string KeyName = "key_name";
    public const string SubnetId = "subnet_id";

    /// <summary>Comma-separated security group ids.</summary>
    public const string SecurityGroupIds = "security_group_ids";
}
