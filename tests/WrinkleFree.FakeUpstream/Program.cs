using WrinkleFree.FakeUpstream;

// Runs the fake upstream as a process (for supervision tests) until SIGTERM/SIGINT.
var (options, port) = FakeUpstreamOptions.Parse(args);
await using var upstream = await FakeUpstreamServer.StartAsync(options, port);
Console.WriteLine($"fake upstream listening on {upstream.BaseUrl}");
await upstream.WaitForShutdownAsync();
