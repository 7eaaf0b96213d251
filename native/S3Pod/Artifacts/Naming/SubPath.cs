namespace S3Pod.Artifacts;

/// <summary>
/// Where a spec's <c>[sub/path]</c> points inside a directory artifact or asset that came from a
/// store: resolved segment by segment, following symbolic links only while they stay inside the
/// tree. Content is not trusted: a pushed directory may hold <c>evil -&gt; /etc/passwd</c>, and the
/// sub-path must not hand that out. Artifacts and assets both resolve through here.
/// </summary>
internal static class SubPath
{
    private const int MaxLinks = 40; // as the kernel's ELOOP limit

    /// <summary>The path of <paramref name="subPath"/> ('/'-separated) below <paramref name="root"/>,
    /// with every link on the way replaced by what it points at. Not found (exit 1), naming the
    /// problem: a missing entry, a dangling link, a link that leads outside the tree.</summary>
    /// <param name="label">What the tree is, for messages (<c>fx/dir:1.0.0</c>).</param>
    public static string ResolveInside(string root, string subPath, string label)
    {
        var top = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var pending = new Queue<string>(subPath.Split('/', '\\'));
        var current = top;
        int links = 0;
        while (pending.TryDequeue(out var segment))
        {
            if (segment is "" or ".") continue;
            if (segment == "..")
            {
                if (current == top) throw Outside(label, subPath, "..");
                current = Path.GetDirectoryName(current)!;
                continue;
            }
            var next = Path.Combine(current, segment);
            if (new FileInfo(next).LinkTarget is { } target)
            {
                if (++links > MaxLinks) throw S3PodException.NotFound($"{label}: '{subPath}' goes through more than {MaxLinks} symbolic links");
                var resolved = Path.GetFullPath(target, current);
                if (!IsInside(top, resolved)) throw Outside(label, subPath, target);
                if (!File.Exists(resolved) && !Directory.Exists(resolved) && new FileInfo(resolved).LinkTarget is null)
                    throw S3PodException.NotFound($"{label}: '{subPath}' is (or goes through) the symbolic link '{segment}' -> '{target}', which points at nothing (a dangling link)");
                // Go on from the link's target, itself resolved segment by segment from the top.
                var rest = pending.ToList();
                pending.Clear();
                foreach (var s in Path.GetRelativePath(top, resolved).Split(Path.DirectorySeparatorChar)) pending.Enqueue(s);
                foreach (var s in rest) pending.Enqueue(s);
                current = top;
                continue;
            }
            if (!File.Exists(next) && !Directory.Exists(next)) throw S3PodException.NotFound($"{label} has no '{subPath}' (looked for {next})");
            current = next;
        }
        return current;
    }

    private static bool IsInside(string top, string path) =>
        path == top || path.StartsWith(top + Path.DirectorySeparatorChar, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static S3PodException Outside(string label, string subPath, string target) =>
        S3PodException.NotFound($"{label}: '{subPath}' leads outside it (through '{target}'); a [sub/path] is only served from inside the directory");
}
