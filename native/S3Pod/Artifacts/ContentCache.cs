using System.Security.Cryptography;
using S3Pod.Archive;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;

namespace S3Pod.Artifacts;

/// <summary>
/// Artifact content on this machine, addressed by digest, so each distinct content is downloaded
/// once and shared by every version, alias and artifact that points at it:
/// <code>
/// &lt;cache_dir&gt;/artifacts/blobs/sha256/&lt;2&gt;/&lt;hex&gt;   a file, verified, read-only (0444, or 0555 when pushed executable)
/// &lt;cache_dir&gt;/artifacts/trees/&lt;hex&gt;/            a directory artifact, extracted once from the archive with that digest
/// &lt;cache_dir&gt;/artifacts/locks/&lt;hex&gt;.lock          held while one process fetches that content
/// </code>
/// A file is written beside its final name and renamed after its digest checked out; a tree is
/// extracted into a staging directory and renamed. So whatever is at a final name is complete, and a
/// crash leaves only staging that the next fetch of the same content removes. Two processes asking
/// for the same content at once download it once: the second waits for the lock, then finds it.
/// </summary>
internal sealed class ContentCache(string root, IFileSystem fileSystem, Reporter reporter)
{
    /// <summary>How long to wait for another process fetching the same content (a large download).</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromMinutes(30);

    public string FilePath(string sha256) => Path.Combine(root, "blobs", "sha256", sha256[..2], sha256);
    public string TreePath(string sha256) => Path.Combine(root, "trees", sha256);

    /// <summary>The local path of content with this digest, if it is here (a file or a tree), without any request.</summary>
    public string? TryGet(string sha256)
    {
        if (File.Exists(FilePath(sha256))) return FilePath(sha256);
        if (Directory.Exists(TreePath(sha256))) return TreePath(sha256);
        return null;
    }

    /// <summary>The local path of <paramref name="content"/>, fetched and verified first if it is not
    /// here yet. <paramref name="store"/> is only called when a download is needed.</summary>
    public async Task<(string Path, bool Downloaded)> MaterialiseAsync(ContentRef content, Func<IObjectStore> store, string what, CancellationToken ct)
    {
        var sha = content.Sha256;
        var final = content.IsDirectory ? TreePath(sha) : FilePath(sha);
        if (IsPresent(content, final)) return (final, false);
        using (await LockAsync(sha, what, ct))
        {
            if (IsPresent(content, final)) return (final, false);
            if (content.IsDirectory) await FetchTreeAsync(content, store(), final, what, ct);
            else await FetchFileAsync(content, store(), final, what, ct);
        }
        return (final, true);
    }

    private bool IsPresent(ContentRef content, string final)
    {
        if (content.IsDirectory) return Directory.Exists(final);
        var file = new FileInfo(final);
        if (!file.Exists || file.Length != content.Size) return false;
        // One copy serves every record with this digest; if any of them was pushed executable, so is the copy.
        if (WantsExecute(content) && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(final) & UnixFileMode.UserExecute) == 0)
            fileSystem.SetPermissions(final, ReadOnlyMode(content));
        return true;
    }

    private static bool WantsExecute(ContentRef content) => ModeBits.Parse(content.Mode) is { } mode && (mode & 0x49) != 0;

    private static int ReadOnlyMode(ContentRef content) => WantsExecute(content) ? 0x16D /* 0555 */ : 0x124 /* 0444 */;

    private async Task FetchFileAsync(ContentRef content, IObjectStore store, string final, string what, CancellationToken ct)
    {
        await using var reader = await OpenBlobAsync(store, content, what, ct);
        using var progress = reporter.Progress($"download {what}", content.Size);
        await using var body = new ProgressStream(reader.Content, progress.Report);
        await LocalFiles.WriteVerifiedAsync(body, final, ct, (hash, size) => CheckContent(content, hash, size, what));
        fileSystem.SetPermissions(final, ReadOnlyMode(content));
    }

    private async Task FetchTreeAsync(ContentRef content, IObjectStore store, string final, string what, CancellationToken ct)
    {
        var trees = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(trees);
        // Leftovers of a fetch of this content that crashed: nobody else can be using them (we hold its lock).
        foreach (var stale in Directory.EnumerateDirectories(trees, $".stage-{content.Sha256}-*")) TryDelete(stale);
        var stage = Path.Combine(trees, $".stage-{content.Sha256}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        try
        {
            await using (var reader = await OpenBlobAsync(store, content, what, ct))
            using (var progress = reporter.Progress($"download {what}", content.Size))
            await using (var body = new HashingReadStream(new ProgressStream(reader.Content, progress.Report), content.Sha256, content.Size, what))
            {
                await TarZstd.UnpackDirectoryAsync(fileSystem, body, stage, ct);
            }
            Directory.Move(stage, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot place {what} in the local cache {trees}: {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(stage)) TryDelete(stage);
        }
    }

    /// <summary>Opens the blob a record points at; a record whose content is gone is an integrity failure.</summary>
    public static async Task<ObjectReader> OpenBlobAsync(IObjectStore store, ContentRef content, string what, CancellationToken ct) =>
        await store.OpenReadAsync(ArtifactLayout.BlobKey(content.Blob), ReadOptions.Default, ct)
        ?? throw S3PodException.Integrity($"{what}: its content {store.Location}{ArtifactLayout.BlobKey(content.Blob)} is missing from the store");

    /// <summary>The size and digest a record promises, checked before anything is placed.</summary>
    public static void CheckContent(ContentRef content, string sha256, long size, string what)
    {
        if (size != content.Size)
            throw S3PodException.Integrity($"{what}: got {size} bytes, the record says {content.Size}; nothing was written");
        if (!sha256.Equals(content.Sha256, StringComparison.OrdinalIgnoreCase))
            throw S3PodException.Integrity($"{what}: sha256 {sha256} does not match the record's {content.Sha256}; nothing was written");
    }

    private Task<IDisposable> LockAsync(string sha256, string what, CancellationToken ct) =>
        Local.FileLock.AcquireAsync(Path.Combine(root, "locks", sha256 + ".lock"), $"the cached content of {what}", ct, LockWait,
            () => reporter.Info($"waiting for another s3pod process that is fetching {what}"));

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>Permission bits as records store them: an octal string such as "0755".</summary>
internal static class ModeBits
{
    public static string Format(int mode) => "0" + Convert.ToString(mode & 0xFFF, 8).PadLeft(3, '0');

    public static int? Parse(string? text) =>
        text is { Length: > 0 and <= 5 } && text.All(c => c is >= '0' and <= '7')
            ? Convert.ToInt32(text, 8) & 0xFFF
            : null;

    /// <summary>What a restored file gets: the recorded rwx and sticky bits (01777), never setuid/setgid (as the archive layer).</summary>
    public static int Restorable(int mode) => mode & Archive.TarUnpacker.PermissionAndStickyBits;
}
