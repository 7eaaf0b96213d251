using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using S3Pod.Streams;

namespace S3Pod.Storage;

/// <summary>
/// The embedded store: a directory that behaves like a bucket. Object bytes live at
/// <c>root/prefix/key</c> (so a human can look at them), s3pod's metadata in a parallel tree under
/// <c>root/.s3pod/meta</c>. Writes go to a temp file in <c>root/.s3pod/tmp</c> and are renamed into
/// place under a store-wide lock, so conditions are exact and a reader never sees half an object;
/// reads open the data and read its metadata under the same lock, so both come from one write (an
/// open handle keeps reading the bytes it opened after a later rename replaces them).
/// </summary>
internal sealed class LocalObjectStore(string root, string prefix, TimeProvider clock) : IObjectStore
{
    private const string ControlDir = ".s3pod";
    private readonly string _root = Path.GetFullPath(root);
    private readonly string _prefix = ObjectKeys.NormalizePrefix(prefix);

    public LocalObjectStore(string root, string prefix) : this(root, prefix, TimeProvider.System) { }

    public string Location => $"file://{_root}/{_prefix}";

    public string Identity => IdentityOf(_root, _prefix);

    /// <summary>The <see cref="Identity"/> of the store a directory and prefix open, without opening it.</summary>
    public static string IdentityOf(string root, string prefix) => $"file\n{Path.GetFullPath(root)}\n{ObjectKeys.NormalizePrefix(prefix)}";

    private string DataPath(string key) => Path.Combine(_root, _prefix + Checked(key));
    private string MetaPath(string key) => Path.Combine(_root, ControlDir, "meta", _prefix + key + ".json");
    private string TempDir => Path.Combine(_root, ControlDir, "tmp");
    private string LockPath => Path.Combine(_root, ControlDir, "lock");

    /// <summary>Keys become paths here: the common rules, plus the control directory is off limits.</summary>
    private string Checked(string key)
    {
        ObjectKeys.Validate(key, _prefix);
        if (key.Split('/').Contains(ControlDir)) throw S3PodException.Usage($"key '{key}' cannot be stored in a local directory store ('{ControlDir}' segment)");
        return key;
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct)
    {
        var path = DataPath(key);
        using (await StoreLock.AcquireAsync(LockPath, ct))
        {
            var file = new FileInfo(path);
            return file.Exists ? InfoFor(key, file) : null;
        }
    }

    private ObjectInfo InfoFor(string key, FileInfo file)
    {
        var meta = ReadMeta(key);
        bool matches = meta is not null && meta.Size == file.Length;
        // Files dropped into the directory by other means have no sidecar: size+mtime stand in for an ETag.
        var etag = matches ? meta!.ETag : $"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}";
        return new ObjectInfo(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc), etag, matches ? meta!.Metadata : ObjectInfo.NoMetadata);
    }

    private LocalMeta? ReadMeta(string key)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(MetaPath(key)), StoredJson.Default.LocalMeta);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public async Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct)
    {
        var dataPath = DataPath(key);
        var tmpData = Path.Combine(TempDir, Guid.NewGuid().ToString("N"));
        var tmpMeta = tmpData + ".json";
        // Failures of the content stream (a source file, a network body) pass through as they are;
        // only the store's own file operations are reported as the store's problem.
        bool readingContent = false;
        try
        {
            Directory.CreateDirectory(TempDir);
            long size = 0;
            await using (var file = new FileStream(tmpData, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                while (true)
                {
                    readingContent = true;
                    int n = await content.ReadAsync(buffer, ct);
                    readingContent = false;
                    if (n == 0) break;
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                    size += n;
                    options.Progress?.Invoke(size);
                }
            }
            if (options.Length is { } promised && promised != size)
                throw S3PodException.Operational($"{Location}{key}: the content was {size} bytes, {promised} were announced; nothing was stored");
            var now = clock.GetUtcNow();
            File.SetLastWriteTimeUtc(tmpData, now.UtcDateTime);
            // Tagged with a writer id like every S3 write, so callers see one shape of metadata.
            var metadata = new Dictionary<string, string>(options.Metadata) { [MetadataKeys.Writer] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)) };
            var meta = new LocalMeta(LocalMeta.CurrentSchema, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), size, options.ContentType, metadata);
            await File.WriteAllBytesAsync(tmpMeta, JsonSerializer.SerializeToUtf8Bytes(meta, StoredJson.Default.LocalMeta), ct);

            Directory.CreateDirectory(Path.GetDirectoryName(dataPath)!);
            Directory.CreateDirectory(Path.GetDirectoryName(MetaPath(key))!);
            using (await StoreLock.AcquireAsync(LockPath, ct))
            {
                var existing = File.Exists(dataPath) ? InfoFor(key, new FileInfo(dataPath)) : null;
                switch (options.Condition)
                {
                    case WriteCondition.Absent when existing is not null:
                    case WriteCondition.Match m when existing is null || existing.ETag != m.ETag.Trim('"'):
                        return new PutOutcome.PreconditionFailed(existing);
                }
                // Metadata first: a reader that sees the new bytes must find their metadata (and reads
                // take the lock anyway).
                File.Move(tmpMeta, MetaPath(key), overwrite: true);
                File.Move(tmpData, dataPath, overwrite: true);
            }
            return new PutOutcome.Written(new ObjectInfo(key, size, now, meta.ETag, metadata));
        }
        catch (IOException e) when (!readingContent)
        {
            throw new StorageException(StorageFailure.LocalIO, $"cannot write {Location}{key}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e) when (!readingContent)
        {
            throw new StorageException(StorageFailure.LocalIO, $"cannot write {Location}{key}: permission denied", e);
        }
        finally
        {
            TryDelete(tmpData);
            TryDelete(tmpMeta);
        }
    }

    public async Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct)
    {
        var path = DataPath(key);
        FileStream stream;
        ObjectInfo info;
        using (await StoreLock.AcquireAsync(LockPath, ct))
        {
            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            info = InfoFor(key, new FileInfo(path));
        }
        if (options.IfMatch is { } wanted && wanted.Trim('"') != info.ETag)
        {
            await stream.DisposeAsync();
            throw new StorageException(StorageFailure.Changed, $"{Location}{key} was replaced since it was looked up; try again");
        }
        Stream content = options.Progress is null ? stream : new ProgressStream(stream, options.Progress);
        return new ObjectReader(info, content);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct, string? startAfter = null)
    {
        await Task.CompletedTask;
        var full = _prefix + prefix;
        // Start the walk at the deepest directory the prefix names; the rest of the prefix filters names.
        var slash = full.LastIndexOf('/');
        var startDir = Path.Combine(_root, slash < 0 ? "" : full[..slash]);
        if (!Directory.Exists(startDir)) yield break;
        var keys = new List<string>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
        foreach (var file in Directory.EnumerateFiles(startDir, "*", options))
        {
            var rel = Path.GetRelativePath(_root, file).Replace('\\', '/');
            if (rel.StartsWith(ControlDir + "/", StringComparison.Ordinal) || !rel.StartsWith(full, StringComparison.Ordinal)) continue;
            if (startAfter is not null && string.CompareOrdinal(rel[_prefix.Length..], startAfter) <= 0) continue;
            keys.Add(rel);
        }
        keys.Sort(StringComparer.Ordinal);
        foreach (var rel in keys)
        {
            ct.ThrowIfCancellationRequested();
            var key = rel[_prefix.Length..];
            var f = new FileInfo(Path.Combine(_root, rel));
            if (f.Exists) yield return InfoFor(key, f);
        }
    }

    public async Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null)
    {
        var path = DataPath(key);
        using (await StoreLock.AcquireAsync(LockPath, ct))
        {
            if (!File.Exists(path)) return DeleteOutcome.NotFound;
            if (ifMatch is not null && InfoFor(key, new FileInfo(path)).ETag != ifMatch.Trim('"')) return DeleteOutcome.PreconditionFailed;
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException(StorageFailure.LocalIO, $"cannot delete {Location}{key}: {e.Message}", e);
            }
            TryDelete(MetaPath(key));
        }
        return DeleteOutcome.Deleted;
    }

    public Task CheckAccessAsync(CancellationToken ct)
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(_root, ControlDir));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException(StorageFailure.LocalIO, $"local store {_root} is not usable: {e.Message}", e);
        }
        return Task.CompletedTask;
    }

    public Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false) =>
        Task.FromResult(StoreCapabilities.Local(clock.GetUtcNow()));

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Sidecar metadata of one local object (a stored format: versioned, separate from CLI output).</summary>
internal sealed record LocalMeta(string Schema, string ETag, long Size, string? ContentType, Dictionary<string, string> Metadata)
{
    public const string CurrentSchema = "s3pod.local-meta/v1";
}

/// <summary>The local store's one lock (its control directory): the shared local-disk lock, failing as a storage error.</summary>
internal static class StoreLock
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    public static Task<IDisposable> AcquireAsync(string path, CancellationToken ct) =>
        Local.FileLock.AcquireAsync(path, "the local store", ct, MaxWait, error: (message, inner) => new StorageException(StorageFailure.LocalIO, message, inner));
}
