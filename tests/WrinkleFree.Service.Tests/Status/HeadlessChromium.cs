using PuppeteerSharp;

namespace WrinkleFree.Service.Tests.Status;

/// <summary>
/// The Debian chromium (installed by .ci/run; $WF_CHROMIUM overrides the path) driven by PuppeteerSharp, headless and as
/// root: PuppeteerSharp never downloads a browser of its own here.
/// </summary>
internal static class HeadlessChromium
{
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("WF_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<IBrowser> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"no chromium at {ExecutablePath}: `apt-get install chromium` (as .ci/run does) or set WF_CHROMIUM");
        return await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root in CI needs --no-sandbox; containers have a small /dev/shm.
            Args = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = 60_000,
        });
    }
}
