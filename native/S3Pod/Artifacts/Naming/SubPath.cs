namespace S3Pod.Artifacts;

/// <summary>
/// Where a spec's <c>[sub/path]</c> points inside a directory artifact or asset. The sub-path was
/// validated by <see cref="ArtifactSpec.Parse"/> (relative, canonical, no '..'), so joining it
/// cannot leave the root by its text; what lies on disk is the caller's to trust.
/// </summary>
internal static class SubPath
{
    /// <summary>The sub-path's segments joined under <paramref name="root"/>.</summary>
    public static string Join(string root, string subPath) => Path.Combine([root, .. subPath.Split('/')]);

    /// <summary>Whether something is at <paramref name="path"/>: a file or a directory, or, when
    /// <paramref name="danglingLinkCounts"/>, a symbolic link whose target is missing (a pulled
    /// artifact restores links as they were archived).</summary>
    public static bool Exists(string path, bool danglingLinkCounts = false) =>
        File.Exists(path) || Directory.Exists(path) || (danglingLinkCounts && new FileInfo(path).LinkTarget is not null);
}
