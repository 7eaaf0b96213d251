namespace S3Pod.Local;

/// <summary>
/// The temp files s3pod writes beside a destination before renaming them into place
/// (<c>.NAME.s3pod-&lt;32 hex&gt;</c>), and the removal of those a killed run left behind. A writer
/// holds its temp file open with an exclusive lock (flock on Unix, no sharing on Windows) from
/// creation to rename, and the operating system drops the lock when the process dies however it
/// dies; so a temp file that can be locked is provably not being written. The age condition only
/// covers the instant between closing a temp file and renaming it.
/// </summary>
internal static class TempFiles
{
    /// <summary>Unlocked temp files younger than this are left alone (a writer between close and rename).</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);

    private const string Marker = ".s3pod-";

    /// <summary>A fresh temp path beside <paramref name="destination"/>.</summary>
    public static string NewPath(string destination) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destination))!, $".{Path.GetFileName(destination)}{Marker}{Guid.NewGuid():N}");

    /// <summary>Creates a temp file beside <paramref name="destination"/>, open and locked until disposed.</summary>
    public static FileStream Create(string path, int bufferSize = 4096, FileOptions options = FileOptions.None) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize, options);

    /// <summary>
    /// Removes the temp files of s3pod's naming beside <paramref name="destination"/> that no live
    /// process is writing (see the class summary). Best effort: whatever cannot be looked at stays.
    /// Returns the bytes freed.
    /// </summary>
    public static long RemoveStale(string destination, DateTime? nowUtc = null)
    {
        var now = nowUtc ?? DateTime.UtcNow;
        long freed = 0;
        string dir;
        IEnumerable<string> candidates;
        try
        {
            dir = Path.GetDirectoryName(Path.GetFullPath(destination))!;
            if (!Directory.Exists(dir)) return 0;
            candidates = Directory.EnumerateFiles(dir, $".{Path.GetFileName(destination)}{Marker}*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return 0;
        }
        foreach (var path in candidates)
        {
            // Only our own shape: the marker followed by a 32-hex id and nothing else.
            var id = Path.GetFileName(path)[(Path.GetFileName(destination).Length + 1 + Marker.Length)..];
            if (id.Length != 32 || !id.All(char.IsAsciiHexDigit)) continue;
            try
            {
                var info = new FileInfo(path);
                if (now - info.LastWriteTimeUtc < Quiet) continue;
                long size = info.Length;
                // Held by a live writer: the open fails with a sharing violation and the file stays.
                var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                // Unix deletes under the lock; Windows cannot delete a file it holds open.
                if (OperatingSystem.IsWindows()) probe.Dispose();
                try { File.Delete(path); } finally { probe.Dispose(); }
                freed += size;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use, or gone meanwhile: not ours to decide now.
            }
        }
        return freed;
    }
}
