using System.Globalization;
using System.Text;
using WrinkleFree.Service.Providers;

namespace WrinkleFree.Providers.Cloud;

/// <summary>
/// The cloud-init user-data one replica's instance boots with: a bash script that installs the serving <c>wf</c> (or
/// checks the image has it), fetches the model and checks its SHA-256, writes the replica's environment and a systemd
/// unit <c>wf-replica</c>, and starts it. Pure (no I/O, no clock), so what instances boot with is pinned by a snapshot test.
/// The contract the EC2 test double's runner reads: the environment file between the <see cref="EnvBegin"/> heredoc
/// markers, and the unit's <c>ExecStart=</c> line.
/// </summary>
public static class ReplicaUserData
{
    public const string UnitName = "wf-replica";
    public const string WfPath = "/usr/local/bin/wf";
    public const string EnvFile = "/etc/wrinklefree/replica.env";
    public const string ModelFolder = "/var/lib/wrinklefree/model";
    public const string EnvBegin = "WF_REPLICA_ENV";

    // How long systemd lets the replica drain on SIGTERM (a terminate or shutdown) before killing it.
    private const int StopSeconds = 110;

    /// <summary>The script for <paramref name="request"/> on a tier with <paramref name="settings"/>, serving on <paramref name="envs"/> (PORT/HOST included).</summary>
    /// <param name="files">File contents by the variable that names them (the replica key file): written under /etc/wrinklefree/files, 0600.</param>
    public static string Build(ReplicaLaunchRequest request, CloudTierSettings settings, IReadOnlyDictionary<string, string> envs, IReadOnlyDictionary<string, string>? files = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(envs);
        var all = new SortedDictionary<string, string>(envs.ToDictionary(), StringComparer.Ordinal);
        var script = new StringBuilder();
        script.Append(CultureInfo.InvariantCulture, $"""
            #!/bin/bash
            # WrinkleFree replica {request.ReplicaId} of {request.Service} (version {request.Version}, tier {request.Tier}), written by the cloud provider.
            # Its output: journalctl -u {UnitName}
            set -euo pipefail
            install -d -m 0755 /etc/wrinklefree {ModelFolder}

            """);
        if (settings.WfUrl is { } wfUrl)
        {
            script.Append(CultureInfo.InvariantCulture, $"""
                {Fetch(wfUrl, "/tmp/wf")}
                echo '{settings.WfSha256}  /tmp/wf' | sha256sum -c -
                install -m 0755 /tmp/wf {WfPath}

                """);
        }
        else
        {
            script.Append(CultureInfo.InvariantCulture, $"test -x {WfPath} || {{ echo 'wrinklefree: the image has no {WfPath}; give the tier wf_url and wf_sha256' >&2; exit 1; }}\n\n");
        }

        if (settings.ModelUrl is { } modelUrl)
        {
            var file = $"{ModelFolder}/{FileName(modelUrl)}";
            all["MODEL_PATH"] = file;
            script.Append(CultureInfo.InvariantCulture, $"""
                if ! echo '{settings.ModelSha256}  {file}' | sha256sum -c - >/dev/null 2>&1; then
                  {Fetch(modelUrl, file + ".part")}
                  echo '{settings.ModelSha256}  {file}.part' | sha256sum -c -
                  mv {file}.part {file}
                fi

                """);
        }

        if (files is { Count: > 0 })
        {
            script.Append("install -d -m 0700 /etc/wrinklefree/files\n");
            foreach (var (variable, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var path = FilePath(variable);
                script.Append(CultureInfo.InvariantCulture, $"(umask 077; echo '{Convert.ToBase64String(Encoding.UTF8.GetBytes(content))}' | base64 -d > {path})\n");
            }

            script.Append('\n');
        }

        script.Append(CultureInfo.InvariantCulture, $"cat > {EnvFile} <<'{EnvBegin}'\n");
        foreach (var (key, value) in all)
            script.Append(CultureInfo.InvariantCulture, $"{key}={SystemdQuote(value)}\n");
        script.Append(CultureInfo.InvariantCulture, $"{EnvBegin}\nchmod 0600 {EnvFile}\n\n");
        script.Append(CultureInfo.InvariantCulture, $"""
            cat > /etc/systemd/system/{UnitName}.service <<'WF_REPLICA_UNIT'
            [Unit]
            Description=WrinkleFree replica {request.ReplicaId} of {request.Service}
            After=network-online.target
            Wants=network-online.target

            [Service]
            EnvironmentFile={EnvFile}
            ExecStart={ExecStart(request, settings.Infra)}
            KillSignal=SIGTERM
            TimeoutStopSec={StopSeconds}
            Restart=on-failure
            RestartSec=2

            [Install]
            WantedBy=multi-user.target
            WF_REPLICA_UNIT
            systemctl daemon-reload
            systemctl enable --now {UnitName}.service

            """);
        return script.ToString();
    }

    /// <summary>Where the instance keeps the file a variable names (e.g. WF_API_KEY_FILE).</summary>
    public static string FilePath(string variable) => $"/etc/wrinklefree/files/{variable.ToLowerInvariant().Replace('_', '-')}";

    /// <summary>
    /// The unit's command: <c>wf replica ... --interruption-notice INFRA</c> (the replica drains on the cloud's notice),
    /// or the spec's run: script (and setup:) under /bin/sh.
    /// </summary>
    internal static string ExecStart(ReplicaLaunchRequest request, string infra)
    {
        if (request.Command is { } command)
        {
            List<string> argv = command == Service.Spec.ServicePlan.WfCommand ? [WfPath, .. request.Arguments] : [command, .. request.Arguments];
            if (command == Service.Spec.ServicePlan.WfCommand && request.Arguments is ["replica", ..])
                argv.AddRange(["--interruption-notice", infra]);
            if (request.Setup is null)
                return string.Join(' ', argv.Select(ExecWord));
            return string.Join(' ', new[] { "/bin/sh", "-c", "set -e\n" + request.Setup + "\nexec \"$0\" \"$@\"" }.Concat(argv).Select(ExecWord));
        }

        var run = request.Setup is null ? request.Run! : "set -e\n" + request.Setup + "\nset +e\n" + request.Run;
        return $"/bin/sh -c {ExecWord(run)}";
    }

    // aws s3 / gcloud storage for bucket URLs (the image's CLIs, with the instance's role), curl for https.
    private static string Fetch(string url, string to) => url switch
    {
        _ when url.StartsWith("s3://", StringComparison.Ordinal) => $"aws s3 cp --only-show-errors '{url}' '{to}'",
        _ when url.StartsWith("gs://", StringComparison.Ordinal) => $"gcloud storage cp '{url}' '{to}'",
        _ => $"curl -fsSL --retry 5 -o '{to}' '{url}'",
    };

    private static string FileName(string url)
    {
        var name = url[(url.LastIndexOf('/') + 1)..];
        return name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') ? name : "model.gguf";
    }

    /// <summary>An ExecStart word: quoted, and $ and % doubled, as systemd would otherwise expand them there (the shell does instead).</summary>
    internal static string ExecWord(string value) => SystemdQuote(value.Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal));

    /// <summary>A value as systemd reads it: double-quoted unless plain, with backslash, quote and newline escaped.</summary>
    internal static string SystemdQuote(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':' or ',' or '=' or '+' or '@'))
            return value;
        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            quoted.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }
}
