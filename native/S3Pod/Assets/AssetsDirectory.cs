using System.Security.Cryptography;
using S3Pod.Artifacts;
using S3Pod.Local;

namespace S3Pod.Assets;

/// <summary>A file asset or a directory asset.</summary>
internal enum AssetKind { File, Directory }

/// <summary>
/// The record s3pod keeps beside each version it put into the assets directory
/// (<c>ASSETS_DIR/&lt;name&gt;/.&lt;version&gt;.s3pod.json</c>), so a local copy can be checked against a
/// pinned digest without reading it again. Hand-placed versions have none and are still used.
/// </summary>
/// <param name="Kind">file or directory.</param>
/// <param name="Digest"><c>sha256:&lt;hex&gt;</c> as the artifact store records it (for a file, of its bytes), or null when unknown.</param>
/// <param name="Size">Bytes of the file, or of all files of a directory.</param>
/// <param name="Source">Where it came from (an artifact store's location, or a bundle), for people.</param>
internal sealed record AssetRecord(string Schema, string Name, string Version, string Kind, string? Digest, long Size, string? Source, DateTimeOffset Materialized)
{
    public const string CurrentSchema = "s3pod.asset/v1";

    public AssetKind AssetKind => Kind == "directory" ? Assets.AssetKind.Directory : Assets.AssetKind.File;

    public static string KindName(AssetKind kind) => kind == Assets.AssetKind.Directory ? "directory" : "file";
}

/// <summary>One version present in the assets directory.</summary>
internal sealed record LocalAsset(string Name, string Version, string Path, AssetKind Kind, AssetRecord? Record);

/// <summary>
/// The local assets directory, browsable by people: <c>ASSETS_DIR/&lt;name…&gt;/&lt;version&gt;</c>
/// is the file, or the directory, of that version. Nothing else is ever visible at that path: a version
/// is written beside it (<c>.&lt;version&gt;.s3pod-&lt;random&gt;</c>), verified, then renamed into place,
/// under a lock per version (<c>ASSETS_DIR/_s3pod/locks/</c>; asset names cannot start with '_').
/// Reading takes no lock and writes nothing, so a read-only assets directory works for everything
/// that is already there.
/// </summary>
internal sealed class AssetsDirectory(string root)
{
    public string Root { get; } = Path.GetFullPath(root);
    private string LockDir => Path.Combine(Root, "_s3pod", "locks");

    public string NameDirectory(string name) => Path.Combine([Root, .. name.Split('/')]);

    public string VersionPath(string name, string version) => Path.Combine(NameDirectory(name), version);

    private string RecordPath(string name, string version) => Path.Combine(NameDirectory(name), $".{version}.s3pod.json");

    /// <summary>The version when it is present (a file or a directory at its path); no network, no write.</summary>
    public LocalAsset? Find(string name, string version)
    {
        if (!SchemelessVersion.TryParse(version, out _)) return null;
        var path = VersionPath(name, version);
        AssetKind kind;
        if (File.Exists(path)) kind = AssetKind.File;
        else if (Directory.Exists(path)) kind = AssetKind.Directory;
        else return null;
        return new LocalAsset(name, version, path, kind, AtomicFile.TryReadJson(RecordPath(name, version), AssetJson.Default.AssetRecord));
    }

    /// <summary>The versions present, oldest first (entries whose names are not versions are ignored).</summary>
    public IReadOnlyList<SchemelessVersion> Versions(string name)
    {
        var dir = NameDirectory(name);
        if (!Directory.Exists(dir)) return [];
        var versions = new List<SchemelessVersion>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            var file = Path.GetFileName(entry);
            if (!file.StartsWith('.') && SchemelessVersion.TryParse(file, out var v)) versions.Add(v);
        }
        versions.Sort();
        return versions;
    }

    /// <summary>The newest present version, or the newest under a partial version (<c>1</c> → newest 1.*); null when none.</summary>
    public LocalAsset? Newest(string name, string? partial = null)
    {
        var pick = Versions(name).LastOrDefault(v => partial is null || v.IsUnder(partial));
        return pick is null ? null : Find(name, pick.Text);
    }

    /// <summary>
    /// Puts a version in place, once: under the version's lock, if it is still absent,
    /// <paramref name="write"/> creates the file or the directory (with its contents) at the temp path
    /// it is given and returns its record; then the record and the content are put in place, the
    /// content last by one rename. A temp path left by a killed writer is removed first.
    /// </summary>
    public async Task<(LocalAsset Asset, bool Written)> MaterializeAsync(string name, string version, Func<string, CancellationToken, Task<AssetRecord>> write, CancellationToken ct)
    {
        using var held = await FileLock.AcquireAsync(FileLock.PathFor(LockDir, $"{name}:{version}"), $"asset {name}:{version}", ct);
        if (Find(name, version) is { } present) return (present, false);
        var dir = NameDirectory(name);
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot create {dir} in the assets directory: {e.Message}");
        }
        RemovePartials(name, version);
        var temp = Path.Combine(dir, $".{version}.s3pod-{Guid.NewGuid():N}");
        try
        {
            var record = await write(temp, ct);
            AtomicFile.WriteJson(RecordPath(name, version), record, AssetJson.Default.AssetRecord);
            var final = VersionPath(name, version);
            if (Directory.Exists(temp)) Directory.Move(temp, final);
            else File.Move(temp, final, overwrite: false);
            return (Find(name, version)!, true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot write {name}:{version} into the assets directory {Root}: {e.Message}");
        }
        finally
        {
            Delete(temp);
        }
    }

    /// <summary>
    /// Removes a present version and its record, under the version's lock (so never while it is being
    /// written); false when it was not there. Its content goes away by a rename first, so no reader
    /// ever sees half a version at its path.
    /// </summary>
    public async Task<bool> RemoveAsync(string name, string version, CancellationToken ct)
    {
        using var held = await FileLock.AcquireAsync(FileLock.PathFor(LockDir, $"{name}:{version}"), $"asset {name}:{version}", ct);
        var path = VersionPath(name, version);
        if (!File.Exists(path) && !Directory.Exists(path)) return false;
        var doomed = Path.Combine(NameDirectory(name), $".{version}.s3pod-{Guid.NewGuid():N}");
        try
        {
            if (Directory.Exists(path)) Directory.Move(path, doomed);
            else File.Move(path, doomed);
            File.Delete(RecordPath(name, version));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot remove {name}:{version} from the assets directory {Root}: {e.Message}");
        }
        Delete(doomed);
        return true;
    }

    /// <summary>Writes the record of a present version that had none (best effort: the directory may be read-only).</summary>
    public void TryRecord(AssetRecord record)
    {
        try
        {
            AtomicFile.WriteJson(RecordPath(record.Name, record.Version), record, AssetJson.Default.AssetRecord);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* verified again next time */ }
    }

    private void RemovePartials(string name, string version)
    {
        // Also the file writer's own temp beside the temp path (`..<version>.s3pod-<a>.s3pod-<b>`).
        foreach (var pattern in new[] { $".{version}.s3pod-*", $"..{version}.s3pod-*" })
            foreach (var partial in Directory.EnumerateFileSystemEntries(NameDirectory(name), pattern)) Delete(partial);
    }

    private static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* removed by the next writer of this version */ }
    }

    /// <summary>The sha256 of a file, as <c>sha256:&lt;hex&gt;</c>.</summary>
    public static async Task<string> FileDigestAsync(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
    }

    /// <summary>Bytes of a file, or of every file under a directory.</summary>
    public static long SizeOf(string path) =>
        File.Exists(path) ? new FileInfo(path).Length
        : new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Sum(f => f.Length);
}
