namespace WrinkleFree.Providers.Ssh.Nodes;

/// <summary>A local file to put on a node at <see cref="RemotePath"/>; executables get mode 0755, the rest 0644.</summary>
public sealed record InstallItem(string LocalPath, string RemotePath, bool Executable = false);
