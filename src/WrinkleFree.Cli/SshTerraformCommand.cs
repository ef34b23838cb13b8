using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using WrinkleFree.Platform.Home;
using WrinkleFree.Providers.Ssh.Terraform;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf ssh import-terraform OUTPUT.json --pool NAME</c>: turns <c>terraform output -json</c> of a Hetzner-style module
/// into one pool of <c>ssh_node_pools.yaml</c> (default <c>$WF_HOME/ssh_node_pools.yaml</c>), keeping the file's other
/// pools. The pool's YAML goes to standard output; notes and where it was written to standard error.
/// </summary>
internal sealed class SshTerraformCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    private readonly CliContext _context;
    private readonly TextReader? _stdin;

    /// <param name="stdin">What <c>-</c> reads; null for the process's standard input.</param>
    internal SshTerraformCommand(CliContext context, TextReader? stdin = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _stdin = stdin;
    }

    /// <summary>The <c>import-terraform</c> command, to add to the <c>wf ssh</c> group.</summary>
    public static Command Create(CliContext context) => new SshTerraformCommand(context).Build();

    internal Command Build()
    {
        var input = new Argument<string>("OUTPUT.json") { Description = "What `terraform output -json` printed, as a file, or - for standard input." };
        var pool = new Option<string>("--pool") { Description = "The pool to write (its name in ssh_node_pools.yaml and a tier's settings.pool).", Required = true };
        var output = new Option<string?>("--output") { Description = "The output holding the servers (default: the one output that looks like servers: servers, server_ips, ipv4_addresses, ...)." };
        var user = new Option<string?>("--user") { Description = "Login user of the pool (default: the module's ssh_user output, else root)." };
        var identity = new Option<string?>("--identity-file") { Description = "Private key of the pool (default: the module's ssh_private_key_path or identity_file output)." };
        var ipv6 = new Option<bool>("--ipv6") { Description = "Use each server's ipv6_address instead of its IPv4 address." };
        var privateIps = new Option<bool>("--private") { Description = "Use each server's private_ip, reached through the module's bastion_ip (proxy_jump); the default when no server has a public address." };
        var file = new Option<string?>("--file") { Description = "The pool file to merge into (default: $WF_HOME/ssh_node_pools.yaml; ~/.sky/ssh_node_pools.yaml is SkyPilot's)." };
        var replace = new Option<bool>("--replace") { Description = "Overwrite the pool when the file already has one of that name." };
        var json = new Option<bool>("--json") { Description = "Print the pool, the file and the notes as JSON." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the pool without writing the file." };
        var cmd = new Command("import-terraform", "Write a pool of ssh_node_pools.yaml from `terraform output -json` of a Hetzner-style module (see deploy/terraform/hetzner).")
        {
            input, pool, output, user, identity, ipv6, privateIps, file, replace, json, dryRun,
        };
        cmd.SetAction((parse, ct) => RunAsync(
            parse.GetValue(input)!,
            new TerraformImportOptions
            {
                Pool = parse.GetValue(pool)!,
                Output = parse.GetValue(output),
                User = parse.GetValue(user),
                IdentityFile = parse.GetValue(identity),
                Ipv6 = parse.GetValue(ipv6),
                Private = parse.GetValue(privateIps),
            },
            parse.GetValue(file) ?? Path.Combine(_context.Home, "ssh_node_pools.yaml"),
            parse.GetValue(replace), parse.GetValue(json), parse.GetValue(dryRun), ct));
        return cmd;
    }

    private async Task<int> RunAsync(string input, TerraformImportOptions options, string file, bool replace, bool json, bool dryRun, CancellationToken cancellationToken)
    {
        string text;
        if (input == "-")
        {
            text = await (_stdin ?? Console.In).ReadToEndAsync(cancellationToken);
            options = options with { Source = "stdin" };
        }
        else if (!File.Exists(input))
        {
            return Fail($"'{input}' does not exist; write it in the module's folder with `terraform output -json > {input}`", ExitCodes.InvalidInput);
        }
        else
        {
            text = await File.ReadAllTextAsync(input, cancellationToken);
            options = options with { Source = input };
        }

        TerraformImportResult imported;
        SshPoolFileMerge merge;
        try
        {
            imported = TerraformImport.Import(text, options);
            // The default file lives in the WF home, which is owner-only; create it so, not with the umask's mode.
            if (!dryRun && Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(file))!) == Path.GetFullPath(_context.Home))
                WfHome.CreatePrivateDirectory(_context.Home);
            merge = SshPoolFileWriter.Write(file, imported.Pool, replace, dryRun);
        }
        catch (Exception e) when (e is TerraformImportException or SshPoolFileException)
        {
            return Fail(e.Message, ExitCodes.InvalidInput);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"{file}: {e.Message}", ExitCodes.Failure);
        }

        var pool = imported.Pool;
        var notes = imported.Notes.Concat(merge.Notes).ToList();
        if (pool.IdentityFile is { } key && !File.Exists(ExpandHome(key)))
            notes.Add($"identity_file {key} does not exist on this machine; wf ssh up reads it from here");
        var yaml = pool.ToYaml();
        if (json)
        {
            _context.Out.WriteLine(JsonSerializer.Serialize(new
            {
                Pool = pool.Name,
                File = Path.GetFullPath(file),
                Written = merge.Written,
                Replaced = merge.Replaced,
                KeptOtherPoolsVerbatim = merge.KeptOtherPoolsVerbatim,
                OtherPools = merge.OtherPools,
                ServersOutput = imported.ServersOutput,
                pool.User,
                pool.IdentityFile,
                pool.Port,
                pool.ProxyJump,
                Hosts = pool.Hosts.Select(h => new { h.Ip, h.Name, h.Source }),
                Yaml = yaml,
                Notes = notes,
            }, Json));
            return ExitCodes.Success;
        }

        _context.Out.Write(yaml);
        foreach (var note in notes)
            _context.Error.WriteLine($"note: {note}");
        var hosts = $"{pool.Hosts.Count} host{(pool.Hosts.Count == 1 ? "" : "s")}";
        var action = merge.Replaced ? "replaced" : "added";
        _context.Error.WriteLine(merge.Written
            ? $"{action} pool '{pool.Name}' ({hosts}, from output '{imported.ServersOutput}') in {Path.GetFullPath(file)}; next: wf ssh up --pool {pool.Name}"
            : $"dry run: pool '{pool.Name}' ({hosts}) would be {action} in {Path.GetFullPath(file)}; nothing written");
        return ExitCodes.Success;
    }

    private int Fail(string message, int code)
    {
        _context.Error.WriteLine($"error: {message}");
        return code;
    }

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;
}
