using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WrinkleFree.Testing;

/// <summary>Kestrel on 127.0.0.1 with one request handler, as the contract-test doubles of remote APIs serve.</summary>
public static class LoopbackHost
{
    /// <summary>Starts <paramref name="handler"/> on <paramref name="port"/> (0: a free one); returns the app and its base URL ending in '/'.</summary>
    public static async Task<(WebApplication App, Uri Url)> StartAsync(Func<WebApplication, RequestDelegate> handler, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(handler(app));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.TrimEnd('/') + "/"));
    }
}
