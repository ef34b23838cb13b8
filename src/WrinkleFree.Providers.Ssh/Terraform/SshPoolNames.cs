using System.Text.RegularExpressions;

namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>What a pool name may be: it is a YAML key, a tier's <c>settings.pool</c> and part of <c>--infra ssh/NAME</c>.</summary>
internal static partial class SshPoolNames
{
    public static void Validate(string name)
    {
        if (string.IsNullOrEmpty(name) || !Valid().IsMatch(name))
        {
            throw new TerraformImportException(
                $"pool name '{name}' is not usable: use letters, digits, '-', '_' and '.', starting with a letter or digit (e.g. hetzner-base)");
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex Valid();
}
