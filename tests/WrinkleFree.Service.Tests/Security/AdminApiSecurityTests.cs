using System.Net;
using System.Net.Http.Headers;
using System.Text;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Security;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Security;

/// <summary>The daemon's admin API against callers other than the CLI: no token, a wrong Host, huge bodies, a browser.</summary>
public sealed class AdminApiSecurityTests
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;

    private static readonly (string Method, string Path)[] Routes =
    [
        ("GET", "/services"), ("POST", "/services"), ("GET", "/services/svc"), ("POST", "/services/svc/update"),
        ("GET", "/services/svc/logs"), ("DELETE", "/services/svc"), ("GET", "/services/svc/events"),
        ("GET", "/keys"), ("POST", "/keys"), ("POST", "/keys/abc/revoke"), ("POST", "/status/link"),
        ("GET", "/status"), ("GET", "/status/data.json"), ("GET", "/status/status.js"), ("GET", "/nope"),
    ];

    [Fact]
    public async Task AdminApi_WithoutTheTokenOrWithAWrongHost_RefusesEveryRoute()
    {
        using var home = new TempHome();
        var daemon = await StartAsync(home);
        try
        {
            var info = DaemonInfo.TryRead(home.Path)!;
            Assert.False(string.IsNullOrEmpty(info.Token));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(WrinkleFree.Platform.Home.WfHome.PrivateFileMode, File.GetUnixFileMode(Path.Combine(home.Path, DaemonInfo.FileName)));
                Assert.Equal(WrinkleFree.Platform.Home.WfHome.PrivateFileMode, File.GetUnixFileMode(ReplicaKeyFile.PathIn(home.Path)));
            }
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = info.AdminUrl, Timeout = Deadline };
            foreach (var (method, path) in Routes)
            {
                await EndpointKeysTests.ExpectErrorAsync(await SendAsync(http, method, path, null), 401, "admin_token_required", "token");
                await EndpointKeysTests.ExpectErrorAsync(await SendAsync(http, method, path, "wrong"), 401, "admin_token_required", "token");
                await EndpointKeysTests.ExpectErrorAsync(await SendAsync(http, method, path, info.Token, host: "evil.example:" + info.Port), 403, "host_not_allowed", "Host");
                await EndpointKeysTests.ExpectErrorAsync(await SendAsync(http, method, path, info.Token, host: "127.0.0.1:1"), 403, "host_not_allowed", "Host");
            }
            foreach (var host in new[] { "127.0.0.1", "localhost", "[::1]" })
            {
                using var ok = await SendAsync(http, "GET", "/services", info.Token, host: $"{host}:{info.Port}");
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }

            // Bodies over 1 MiB: 413 whether the length is declared or the body is chunked; the daemon keeps serving.
            var huge = new byte[AdminGuard.MaxBodyBytes + 10];
            Array.Fill(huge, (byte)' ');
            Assert.StartsWith("HTTP/1.1 413", await RawPostAsync(info, "/services", $"Content-Length: {huge.Length}", huge));
            Assert.StartsWith("HTTP/1.1 413", await RawPostAsync(info, "/keys", "Transfer-Encoding: chunked",
                [.. Encoding.ASCII.GetBytes($"{huge.Length:x}\r\n"), .. huge, .. "\r\n0\r\n\r\n"u8.ToArray()]));
            using (var noJson = new HttpRequestMessage(HttpMethod.Post, "/keys") { Content = new ByteArrayContent("{}"u8.ToArray()) })
            {
                noJson.Headers.Authorization = new AuthenticationHeaderValue("Bearer", info.Token);
                await EndpointKeysTests.ExpectErrorAsync(await http.SendAsync(noJson).WaitAsync(Deadline), 400, "invalid_content_type", "Content-Type: application/json");
            }
            using (var deep = await SendAsync(http, "POST", "/services", info.Token, body: new string('[', 100_000)))
                Assert.Equal(HttpStatusCode.BadRequest, deep.StatusCode);
            using (var malformed = await SendAsync(http, "POST", "/keys", info.Token, body: "{\"rpm\": [[[["))
                Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
            using (var wrongType = await SendAsync(http, "POST", "/keys", info.Token, body: "{\"rpm\": \"many\"}"))
                Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            Assert.Empty(await client.ListAsync(CancellationToken.None).WaitAsync(Deadline));
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }

    [Fact]
    public async Task StatusPage_OneTimeLink_SetsAStrictHttpOnlyCookieThatOpensOnlyTheStatusPage()
    {
        using var home = new TempHome();
        var daemon = await StartAsync(home);
        try
        {
            using var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!;
            var link = await client.StatusLinkAsync(CancellationToken.None).WaitAsync(Deadline);
            Assert.Equal(daemon.Info.AdminUrl.GetLeftPart(UriPartial.Authority), link.GetLeftPart(UriPartial.Authority));
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { Timeout = Deadline };

            using var login = await http.GetAsync(link).WaitAsync(Deadline);
            Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
            Assert.Equal("/status", login.Headers.Location?.ToString());
            var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
            Assert.Contains("HttpOnly", cookie, StringComparison.Ordinal);
            Assert.Contains("SameSite=Strict", cookie, StringComparison.Ordinal);
            var session = cookie.Split(';')[0];

            foreach (var path in new[] { "/status", "/status/data.json" })
            {
                using var page = new HttpRequestMessage(HttpMethod.Get, new Uri(daemon.Info.AdminUrl, path));
                page.Headers.Add("Cookie", session);
                using var response = await http.SendAsync(page).WaitAsync(Deadline);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            // The cookie opens the read-only page, nothing else.
            foreach (var (method, path) in new[] { ("GET", "/services"), ("POST", "/keys") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(daemon.Info.AdminUrl, path));
                request.Headers.Add("Cookie", session);
                await EndpointKeysTests.ExpectErrorAsync(await http.SendAsync(request).WaitAsync(Deadline), 401, "admin_token_required", "token");
            }
            // A link works once.
            await EndpointKeysTests.ExpectErrorAsync(await http.GetAsync(link).WaitAsync(Deadline), 401, "link_expired", "wf status --web");
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }

    private static Task<ServiceDaemon> StartAsync(TempHome home) =>
        ServiceDaemon.StartAsync(new DaemonOptions { Home = home.Path, TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5) },
            TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string method, string path, string? token, string? host = null, string? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (host is not null)
            request.Headers.Host = host;
        if (body is not null || method is "POST")
            request.Content = new StringContent(body ?? "{}", Encoding.UTF8, "application/json");
        return await http.SendAsync(request).WaitAsync(Deadline);
    }

    /// <summary>
    /// A POST over a raw socket, returning the response's first line: the body is written while the answer is read, since
    /// the daemon answers 413 and closes before taking all of it (HttpClient then reports only the broken pipe).
    /// </summary>
    private static async Task<string> RawPostAsync(DaemonInfo info, string path, string framing, byte[] body)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(IPAddress.Loopback, info.Port).WaitAsync(Deadline);
        var stream = socket.GetStream();
        var head = $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{info.Port}\r\nAuthorization: Bearer {info.Token}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head)).AsTask().WaitAsync(Deadline);
        var sending = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(body);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The daemon stopped reading (expected once it has answered 413), or the socket was closed below after
                // the answer came while this write was still going.
            }
        });
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        var status = await reader.ReadLineAsync().WaitAsync(Deadline) ?? "";
        socket.Close();
        await sending.WaitAsync(Deadline);
        return status;
    }
}
