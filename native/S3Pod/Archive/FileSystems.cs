namespace S3Pod.Archive;

/// <summary>Picks the file-system layer at start-up: by OS, unless S3POD_FS names one.</summary>
internal static class FileSystems
{
    /// <summary>
    /// <paramref name="setting"/> is S3POD_FS: unset or empty for the OS's own choice (the statx fast
    /// path on Linux, the portable layer elsewhere), "portable" to force the portable layer (how the
    /// suite tests it on Linux), "linux" for the fast path (Linux only). Anything else is exit 2.
    /// </summary>
    public static IFileSystem Select(string? setting) => setting switch
    {
        null or "" => OperatingSystem.IsLinux() ? LinuxFileSystem.Instance : PortableFileSystem.ForThisOs(),
        "portable" => PortableFileSystem.ForThisOs(),
        "linux" when OperatingSystem.IsLinux() => LinuxFileSystem.Instance,
        "linux" => throw S3PodException.Usage("S3POD_FS=linux is only available on Linux (unset it, or use S3POD_FS=portable)"),
        _ => throw S3PodException.Usage($"S3POD_FS must be 'portable' or 'linux' (or unset), not '{EntryNames.Quote(setting)[1..^1]}'"),
    };
}
