namespace S3Pod.Chunks;

/// <summary>
/// The local chunk cache (setting <c>chunk_cache</c>): compressed chunk frames kept on the runner's
/// disk under their digest, so a warm runner fetches only the chunks it lacks. A cached frame is
/// verified like a downloaded one (a damaged file is dropped and fetched again). Least recently used
/// frames go once the directory exceeds its budget (<c>chunk_cache_size</c>); each use touches the
/// file's mtime. Failures to write are ignored: the cache only ever saves downloads.
/// </summary>
internal sealed class ChunkCache(string directory, long budget)
{
    public string Directory { get; } = directory;

    private string PathOf(string digest) => Path.Combine(Directory, digest[..2], digest);

    /// <summary>The cached frame of the chunk, or null; the caller verifies it and <see cref="Drop"/>s a damaged one.</summary>
    public byte[]? TryGetFrame(ChunkRef chunk)
    {
        var path = PathOf(chunk.Sha256);
        try
        {
            var frame = File.ReadAllBytes(path);
            try { File.SetLastWriteTimeUtc(path, DateTime.UtcNow); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            return frame;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Drop(ChunkRef chunk)
    {
        try { File.Delete(PathOf(chunk.Sha256)); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public void Put(ChunkRef chunk, ReadOnlySpan<byte> frame)
    {
        var path = PathOf(chunk.Sha256);
        try
        {
            if (File.Exists(path)) return;
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = path + "." + Environment.ProcessId + "." + Environment.CurrentManagedThreadId + ".tmp";
            File.WriteAllBytes(temp, frame);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Removes least recently used frames until the cache fits its budget.</summary>
    public void Trim()
    {
        try
        {
            if (!System.IO.Directory.Exists(Directory)) return;
            var files = new DirectoryInfo(Directory).EnumerateFiles("*", SearchOption.AllDirectories).ToList();
            long total = files.Sum(f => f.Length);
            foreach (var f in files.OrderBy(f => f.LastWriteTimeUtc))
            {
                if (total <= budget) break;
                try
                {
                    f.Delete();
                    total -= f.Length;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
