using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Messages.Transport;
using WrinkleFree.Providers.Ssh.Pools;

namespace WrinkleFree.Providers.Ssh.Sessions;

/// <summary>
/// Opens SSH.NET sessions to nodes: key (OpenSSH/PEM) or password authentication, host keys checked against known_hosts
/// (recorded on first use only with <see cref="SshConnectOptions.AcceptNew"/>), a connect timeout per attempt, retries
/// with backoff for transient network errors only, and ProxyJump through a forwarded loopback port on the jump session.
/// </summary>
public sealed class SshNetConnector(SshConnectOptions options, TimeProvider timeProvider) : ISshConnector
{
    private static readonly SocketError[] TransientSocketErrors =
    [
        SocketError.ConnectionRefused, SocketError.TimedOut, SocketError.ConnectionReset, SocketError.ConnectionAborted,
        SocketError.HostUnreachable, SocketError.NetworkUnreachable, SocketError.HostDown, SocketError.NetworkDown,
        SocketError.TryAgain, SocketError.Shutdown,
    ];

    // known_hosts is appended by AcceptNew; one writer at a time keeps two first connects from recording a host twice.
    private readonly Lock _acceptLock = new();

    /// <inheritdoc/>
    public async Task<ISshSession> ConnectAsync(SshNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        SshNetSession? jump = null;
        try
        {
            if (node.ProxyJump is { } jumpNode)
            {
                try
                {
                    jump = (SshNetSession)await ConnectAsync(jumpNode, cancellationToken).ConfigureAwait(false);
                }
                catch (SshNodeException error)
                {
                    // Reported against the node the caller asked for (its replicas are what fail), naming the jump host.
                    throw new SshNodeException(node, $"cannot reach it through its jump host: {error.Message}", error);
                }
            }

            var endpoint = jump is null ? (node.Host, node.Port) : ("127.0.0.1", jump.OpenTunnel(node));
            var client = await ConnectClientAsync<SshClient>(node, endpoint, info => new SshClient(info), cancellationToken).ConfigureAwait(false);
            return new SshNetSession(node, client, endpoint, this, jump, options, timeProvider);
        }
        catch
        {
            if (jump is not null)
            {
                await jump.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// Connects a client of <paramref name="node"/> at <paramref name="endpoint"/> (the node itself, or a loopback
    /// tunnel to it), checking the host key under the node's own name and port.
    /// </summary>
    internal async Task<TClient> ConnectClientAsync<TClient>(
        SshNode node, (string Host, int Port) endpoint, Func<ConnectionInfo, TClient> create, CancellationToken cancellationToken)
        where TClient : BaseClient
    {
        var methods = AuthenticationMethods(node);
        var attempts = Math.Max(1, options.Retries);
        var delay = options.RetryDelay;
        Exception? last = null;
        try
        {
            for (var attempt = 1; attempt <= attempts; attempt++)
            {
                if (attempt > 1)
                {
                    await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
                    delay *= 2;
                }

                var failure = await TryConnectAsync(node, endpoint, methods, create, cancellationToken).ConfigureAwait(false);
                if (failure.Client is { } client)
                {
                    return client;
                }

                last = failure.Error;
                if (!failure.Transient)
                {
                    throw failure.Error as SshNodeException ?? new SshNodeException(node, failure.Error!.Message, failure.Error);
                }
            }
        }
        finally
        {
            foreach (var method in methods)
            {
                (method as IDisposable)?.Dispose();
            }
        }

        throw new SshNodeException(node,
            $"unreachable: {attempts} {(attempts == 1 ? "try" : "tries")} failed with a {options.ConnectTimeout.TotalSeconds:0.###} s connect timeout each; last: {Describe(last!)}",
            last);
    }

    private async Task<(TClient? Client, Exception? Error, bool Transient)> TryConnectAsync<TClient>(
        SshNode node, (string Host, int Port) endpoint, AuthenticationMethod[] methods, Func<ConnectionInfo, TClient> create,
        CancellationToken cancellationToken)
        where TClient : BaseClient
    {
        var known = KnownHosts.Load([.. options.KnownHostsFiles, options.AcceptedHostsFile]);
        var info = new ConnectionInfo(endpoint.Host, endpoint.Port, node.User, methods) { Timeout = options.ConnectTimeout };
        PreferKnownKeyTypes(info, known.KeyTypesFor(node.Host, node.Port));
        var client = create(info);
        SshNodeException? hostKeyError = null;
        client.HostKeyReceived += (_, e) =>
        {
            hostKeyError = CheckHostKey(node, known, e.HostKey);
            e.CanTrust = hostKeyError is null;
        };

        using var timeout = new CancellationTokenSource(options.ConnectTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await client.ConnectAsync(linked.Token).ConfigureAwait(false);
            client.KeepAliveInterval = options.KeepAliveInterval;
            return (client, null, false);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            if (hostKeyError is not null)
            {
                return (null, hostKeyError, false);
            }

            return error switch
            {
                SshAuthenticationException => (null, new SshNodeException(node, AuthenticationFailure(node, error), error), false),
                OperationCanceledException or SshOperationTimeoutException => (null, new TimeoutException(
                    $"no SSH answer from {endpoint.Host}:{endpoint.Port} within {options.ConnectTimeout.TotalSeconds:0.###} s", error), true),
                SocketException socket => (null, error, TransientSocketErrors.Contains(socket.SocketErrorCode)),
                SshConnectionException { DisconnectReason: DisconnectReason.ConnectionLost or DisconnectReason.None } => (null, error, true),
                _ => (null, error, false),
            };
        }
        catch
        {
            // Cancelled by the caller: nothing to classify, but the half-open client must not leak.
            client.Dispose();
            throw;
        }
    }

    private SshNodeException? CheckHostKey(SshNode node, KnownHosts known, byte[] blob)
    {
        var name = KnownHosts.HostName(node.Host, node.Port);
        var offered = $"{KnownHosts.KeyType(blob)} {KnownHosts.Fingerprint(blob)}";
        var verdict = known.Check(node.Host, node.Port, blob);
        switch (verdict.Status)
        {
            case HostKeyStatus.Known:
                return null;
            case HostKeyStatus.Changed:
                var old = $"{KnownHosts.KeyType(verdict.RecordedBlob!)} {KnownHosts.Fingerprint(verdict.RecordedBlob!)}";
                return new SshNodeException(node,
                    $"HOST KEY CHANGED for {name}: {verdict.File}:{verdict.Line} records {old} but the host offers {offered}. "
                    + "Someone may be intercepting the connection, or the server was reinstalled; if you know it was reinstalled, "
                    + $"remove the old entry (ssh-keygen -R '{name}' -f {verdict.File}) and connect again. --accept-new does not override this.");
            case HostKeyStatus.Revoked:
                return new SshNodeException(node, $"host key {offered} of {name} is marked @revoked in {verdict.File}:{verdict.Line}");
            default:
                if (!options.AcceptNew)
                {
                    return new SshNodeException(node,
                        $"host key of {name} is not known ({offered}); run `wf ssh up --accept-new` to record it on first use, "
                        + $"or add it to {options.AcceptedHostsFile} or ~/.ssh/known_hosts (ssh-keyscan -p {node.Port} {node.Host})");
                }

                lock (_acceptLock)
                {
                    // Another connect may have recorded it meanwhile: only append when it is still unknown.
                    if (KnownHosts.Load([options.AcceptedHostsFile]).Check(node.Host, node.Port, blob).Status == HostKeyStatus.Unknown)
                    {
                        KnownHosts.Append(options.AcceptedHostsFile, node.Host, node.Port, blob);
                    }
                }

                return null;
        }
    }

    // SSH.NET offers every host key type it knows; OpenSSH prefers the types already recorded for the host, so that a
    // host with an ecdsa key on record is not reported "changed" for offering its ed25519 key. Do the same.
    private static void PreferKnownKeyTypes(ConnectionInfo info, IReadOnlySet<string> knownTypes)
    {
        if (knownTypes.Count == 0)
        {
            return;
        }

        var keep = info.HostKeyAlgorithms.Keys.Where(a => knownTypes.Contains(BlobType(a))).ToList();
        if (keep.Count == 0)
        {
            return;
        }

        foreach (var algorithm in info.HostKeyAlgorithms.Keys.ToList())
        {
            if (!keep.Contains(algorithm))
            {
                info.HostKeyAlgorithms.Remove(algorithm);
            }
        }
    }

    private static string BlobType(string algorithm) => algorithm is "rsa-sha2-256" or "rsa-sha2-512" ? "ssh-rsa" : algorithm;

    private AuthenticationMethod[] AuthenticationMethods(SshNode node)
    {
        var methods = new List<AuthenticationMethod>();
        if (node.IdentityFile is null && node.Password is null)
        {
            // ssh's own behaviour: the user's default keys, those that exist.
            var found = options.DefaultIdentityFiles.Where(f => File.Exists(ExpandHome(f))).ToList();
            if (found.Count == 0)
            {
                throw new SshNodeException(node,
                    $"no identity_file or password is set for it in the pool file, and none of the default keys exists ({string.Join(", ", options.DefaultIdentityFiles)})");
            }

            methods.Add(new PrivateKeyAuthenticationMethod(node.User, [.. found.Select(f => LoadKey(node, f))]));
            return [.. methods];
        }

        if (node.IdentityFile is { } identity)
        {
            methods.Add(new PrivateKeyAuthenticationMethod(node.User, LoadKey(node, identity)));
        }

        if (node.Password is { } password)
        {
            methods.Add(new PasswordAuthenticationMethod(node.User, password));
        }

        return [.. methods];
    }

    private static PrivateKeyFile LoadKey(SshNode node, string identity)
    {
        var path = ExpandHome(identity);
        try
        {
            return new PrivateKeyFile(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new SshNodeException(node, $"cannot read key file {identity} ({path}): {error.Message}", error);
        }
        catch (Exception error) when (error is SshPassPhraseNullOrEmptyException)
        {
            throw new SshNodeException(node,
                $"key file {identity} is encrypted with a passphrase; wf cannot ask for it: use a key without a passphrase for the pool", error);
        }
        catch (Exception error) when (error is SshException or ArgumentException or FormatException or InvalidOperationException or NotSupportedException)
        {
            throw new SshNodeException(node, $"key file {identity} is not a private key wf can use (OpenSSH or PEM): {error.Message}", error);
        }
    }

    private static string AuthenticationFailure(SshNode node, Exception error)
    {
        var with = (node.IdentityFile, node.Password) switch
        {
            ({ } key, null) => $"key file {key}",
            (null, null) => "the default keys",
            (null, _) => "its password",
            ({ } key, _) => $"key file {key} or its password",
        };
        return $"authentication as {node.User} with {with} was refused ({error.Message}); check the user, the password, and that the key is in the node's authorized_keys";
    }

    private static string Describe(Exception error) => error switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused (is sshd running?)",
        SocketException socket => $"{socket.Message} ({socket.SocketErrorCode})",
        _ => error.Message,
    };

    /// <summary>Expands a leading <c>~</c> (or <c>~/</c>) to the user's home folder, as ssh does for IdentityFile.</summary>
    internal static string ExpandHome(string path) => path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
        ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
        : path;
}
