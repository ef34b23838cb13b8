using System.Net;
using System.Net.Http.Headers;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Security;
using WrinkleFree.Service.Tests.Controller;
using WrinkleFree.Service.Tests.Integration;
using WrinkleFree.Service.Tests.State;

namespace WrinkleFree.Service.Tests.Security;

/// <summary>
/// Keys made and revoked through the daemon take effect at the service's endpoint process (`wf endpoint`) before the
/// call returns, survive a daemon restart, and `wf status --json` says whether the service is open.
/// </summary>
public sealed class KeysDaemonTests
{
    private static readonly TimeSpan Deadline = ControllerHarness.Deadline;

    [Fact]
    public async Task Keys_CreateAndRevoke_TakeEffectAtTheEndpointProcessBeforeTheCallReturns()
    {
        using var home = new TempHome();
        var pids = new HashSet<int>();
        var options = new DaemonOptions
        {
            Home = home.Path, TickInterval = TimeSpan.FromMilliseconds(200), DrainTimeout = TimeSpan.FromSeconds(5),
            WfCommand = [ChildProcessEntry.Dotnet, WfCli.Dll],
        };
        var daemon = await ServiceDaemon.StartAsync(options, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = Deadline };
        try
        {
            using (var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!)
            {
                await client.CreateAsync(new CreateServiceRequest { Name = "svc", SpecYaml = ControllerHarness.SpecYaml(1) }, CancellationToken.None).WaitAsync(Deadline);
                var view = await ServiceDaemonTests.WaitAsync(client, v => v.ReadyReplicas == 1, pids);
                Assert.Equal("open", view.Auth);
                var models = new Uri(new Uri(view.Endpoint), "/v1/models");
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, models, null));

                var created = await client.CreateKeyAsync(new NewApiKey { Service = "svc", Name = "ci" }, CancellationToken.None).WaitAsync(Deadline);
                // No wait: the daemon answered only once the endpoint process had the key.
                Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, models, null));
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, models, created.Key));
                Assert.Equal("keys", (await client.GetAsync("svc", CancellationToken.None).WaitAsync(Deadline)).Auth);
                Assert.Null((await client.ListKeysAsync("svc", CancellationToken.None).WaitAsync(Deadline)).Single().RevokedAt);

                await client.RevokeKeyAsync(created.Record.Id, CancellationToken.None).WaitAsync(Deadline);
                Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(http, models, created.Key));
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, new Uri(new Uri(view.Endpoint), "/health"), null));

                var second = await client.CreateKeyAsync(new NewApiKey { Name = "every service" }, CancellationToken.None).WaitAsync(Deadline);
                Assert.Equal(HttpStatusCode.OK, await StatusAsync(http, models, second.Key));
                var error = await Assert.ThrowsAsync<DaemonApiException>(() => client.CreateKeyAsync(new NewApiKey { Rpm = 0 }, CancellationToken.None).WaitAsync(Deadline));
                Assert.Contains("rpm must be 1..", error.Message, StringComparison.Ordinal);
            }

            // A new daemon adopts the endpoint process and tells it the stored keys again.
            await daemon.DisposeAsync();
            daemon = await ServiceDaemon.StartAsync(options, TimeProvider.System, null, CancellationToken.None).WaitAsync(Deadline);
            using (var client = (await DaemonClient.ConnectAsync(home.Path, CancellationToken.None).WaitAsync(Deadline))!)
            {
                var view = await client.GetAsync("svc", CancellationToken.None).WaitAsync(Deadline);
                Assert.Equal("keys", view.Auth);
                Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(http, new Uri(new Uri(view.Endpoint), "/v1/models"), null));
                await client.DeleteAsync("svc", CancellationToken.None).WaitAsync(Deadline);
            }
        }
        finally
        {
            await daemon.DisposeAsync();
            ServiceDaemonTests.KillAll(pids);
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient http, Uri url, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (key is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request).WaitAsync(Deadline);
        return response.StatusCode;
    }
}
