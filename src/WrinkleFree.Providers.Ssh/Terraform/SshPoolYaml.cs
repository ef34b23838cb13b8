using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>Writes an <see cref="ImportedSshPool"/> as a block of <c>ssh_node_pools.yaml</c>, quoting only where YAML needs it.</summary>
internal static partial class SshPoolYaml
{
    public static string Render(ImportedSshPool pool)
    {
        var text = new StringBuilder();
        text.Append(Scalar(pool.Name)).Append(":\n");
        text.Append("  user: ").Append(Scalar(pool.User)).Append('\n');
        if (pool.IdentityFile is { } key)
            text.Append("  identity_file: ").Append(Scalar(key)).Append('\n');
        if (pool.Port is { } port)
            text.Append("  port: ").Append(port.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (pool.ProxyJump is { } jump)
            text.Append("  proxy_jump: ").Append(Scalar(jump)).Append('\n');
        text.Append("  hosts:\n");
        foreach (var host in pool.Hosts)
        {
            text.Append("    - ip: ").Append(Scalar(host.Ip));
            // A comment, not a key: SkyPilot's host maps have no name field, and a key it does not know may be refused.
            if (host.Name is { Length: > 0 } name && !name.Contains('\n', StringComparison.Ordinal))
                text.Append("  # ").Append(name);
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// <paramref name="value"/> as a plain scalar when YAML reads it back as that same string (addresses, paths, names),
    /// else double-quoted.
    /// </summary>
    public static string Scalar(string value)
    {
        if (Plain().IsMatch(value) && !Reserved().IsMatch(value) && (!Numeric().IsMatch(value) || DottedQuad().IsMatch(value)))
            return value;
        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\t' => quoted.Append("\\t"),
                < ' ' => quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }

    // Starts with a letter, digit, or one of ~ / . _ (never a YAML indicator) and holds no ": " or " #".
    [GeneratedRegex(@"^[A-Za-z0-9~/._][A-Za-z0-9~/._@:+-]*$")]
    private static partial Regex Plain();

    [GeneratedRegex(@"^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|\.inf|\.nan|\.Inf|\.NaN|\.INF|\.NAN)$")]
    private static partial Regex Reserved();

    // Anything a YAML 1.1 reader (PyYAML, which SkyPilot uses) could take for a number, a base-60 number or a date:
    // 123, 1.5, 1e3, 0x1f, 1:2:3, 2026-01-02. Quoted even where it would not be: being wrong costs a broken pool file.
    [GeneratedRegex(@"^[-+.]?[0-9][0-9._:eE+-]*$|^0[xob][0-9a-fA-F_]+$")]
    private static partial Regex Numeric();

    // An IPv4 address is none of those (several dots), and SkyPilot's own examples write it plain.
    [GeneratedRegex(@"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")]
    private static partial Regex DottedQuad();
}
