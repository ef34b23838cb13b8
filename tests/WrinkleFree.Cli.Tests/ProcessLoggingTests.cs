using System.CommandLine;
using WrinkleFree.Platform.Files;

namespace WrinkleFree.Cli.Tests;

/// <summary>--log-format and --log-max-bytes of `wf replica` and the daemon: the command line, then the environment, then the defaults.</summary>
public sealed class ProcessLoggingTests
{
    [Fact]
    public void Resolve_NothingSet_TextAndFiftyMebibytes()
    {
        var settings = Resolve([], _ => null);

        Assert.False(settings.Json);
        Assert.Equal(LogRotation.DefaultMaxBytes, settings.MaxBytes);
        Assert.Equal(50L << 20, settings.MaxBytes);
    }

    [Fact]
    public void Resolve_EnvironmentOnly_IsUsed()
    {
        var settings = Resolve([], Env(("WF_LOG_FORMAT", "JSON"), ("WF_LOG_MAX_BYTES", "4096")));

        Assert.True(settings.Json);
        Assert.Equal(4096, settings.MaxBytes);
    }

    [Fact]
    public void Resolve_CommandLineAndEnvironment_CommandLineWins()
    {
        var settings = Resolve(["--log-format", "text", "--log-max-bytes", "0"], Env(("WF_LOG_FORMAT", "json"), ("WF_LOG_MAX_BYTES", "4096")));

        Assert.False(settings.Json);
        Assert.Equal(0, settings.MaxBytes);
    }

    [Theory]
    [InlineData("WF_LOG_FORMAT", "xml")]
    [InlineData("WF_LOG_MAX_BYTES", "lots")]
    [InlineData("WF_LOG_MAX_BYTES", "-1")]
    public void Resolve_BadEnvironmentValue_ThrowsNamingTheVariable(string name, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => Resolve([], Env((name, value))));

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Parse_UnknownFormat_IsAParseError()
    {
        var logging = new ProcessLogging();
        var command = new Command("replica");
        logging.AddTo(command);

        Assert.NotEmpty(command.Parse(["--log-format", "xml"]).Errors);
    }

    private static ProcessLogging.Settings Resolve(string[] args, Func<string, string?> env)
    {
        var logging = new ProcessLogging();
        var command = new Command("replica");
        logging.AddTo(command);
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return logging.Resolve(parse, env);
    }

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}
