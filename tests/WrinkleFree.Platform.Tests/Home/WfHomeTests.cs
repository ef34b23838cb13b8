using WrinkleFree.Platform.Home;

namespace WrinkleFree.Platform.Tests.Home;

public sealed class WfHomeTests
{
    [Fact]
    public void Resolve_SetVariable_IsTheHome() => Assert.Equal("/srv/wf", WfHome.Resolve("/srv/wf"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Resolve_UnsetOrEmpty_IsDotWrinklefreeInTheUserHome(string? variable) =>
        Assert.Equal(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".wrinklefree"), WfHome.Resolve(variable));

    [Fact]
    public void CreatePrivateFile_ExistingFile_KeepsContentAndMode()
    {
        var dir = WfHome.CreatePrivateDirectory(Path.Combine(Path.GetTempPath(), "wf-platform-tests", Guid.NewGuid().ToString("N")));
        try
        {
            var file = Path.Combine(dir, "f");
            File.WriteAllText(file, "data");
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

            WfHome.CreatePrivateFile(file);

            Assert.Equal("data", File.ReadAllText(file));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(file));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
