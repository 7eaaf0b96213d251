using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using S3Pod.Output;

namespace S3Pod.Storage;

/// <summary>
/// The embedded store: a directory that behaves like a bucket. Object bytes live at
/// <c>root/prefix/key</c> (so a human can look at them), s3pod's metadata in a parallel tree under
/// <c>root/.s3pod/meta</c>. Writes go to a temp file in <c>root/.s3pod/tmp</c> and are renamed into
/// place, so a reader never sees half an object; conditional writes take a store-wide lock so the
/// check and the rename are one step.
/// </summary>
internal sealed class LocalObjectStore : IObjectStore
{
    private const string ControlDir = ".s3pod";
    private readonly string _root;
    private readonly string _prefix;

    public LocalObjectStore(string root, string prefix)
    {
        _root = Path.GetFullPath(root);
        _prefix = S3ObjectStore.NormalizePrefix(prefix);
    }

    public string Location => $"file://{_root}/{_prefix}";

    private string DataPath(string key) => Path.Combine(_root, _prefix + ValidateKey(key));
    private string MetaPath(string key) => Path.Combine(_root, ControlDir, "meta", _prefix + key + ".json");
    private string TempDir => Path.Combine(_root, ControlDir, "tmp");

    /// <summary>Keys become paths here, so refuse the ones that would step outside the store.</summary>
    private static string ValidateKey(string key)
    {
        if (key.Length == 0 || key.StartsWith('/') || key.EndsWith('/') ||
            key.Split('/').Any(s => s is "" or "." or ".." || s == ControlDir) || key.Contains('\0'))
            throw S3PodException.Usage($"key '{key}' cannot be stored in a local directory store (empty, absolute, '..' or '{ControlDir}' segments)");
        return key;
    }

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct)
    {
        var path = DataPath(key);
        var file = new FileInfo(path);
        if (!file.Exists) return Task.FromResult<ObjectInfo?>(null);
        return Task.FromResult<ObjectInfo?>(InfoFor(key, file));
    }

    private ObjectInfo InfoFor(string key, FileInfo file)
    {
        var meta = ReadMeta(key);
        // Files dropped into the directory by other means have no sidecar: size+mtime stand in for an ETag.
        var etag = meta is not null && meta.Size == file.Length ? meta.ETag : $"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}";
        return new ObjectInfo(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc), etag,
            meta is not null && meta.Size == file.Length ? meta.Metadata : ObjectInfo.NoMetadata);
    }

    private LocalMeta? ReadMeta(string key)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(MetaPath(key)), S3PodJson.Default.LocalMeta);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct)
    {
        var dataPath = DataPath(key);
        Directory.CreateDirectory(TempDir);
        var tmpData = Path.Combine(TempDir, Guid.NewGuid().ToString("N"));
        var tmpMeta = tmpData + ".json";
        try
        {
            long size = 0;
            await using (var file = new FileStream(tmpData, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                int n;
                while ((n = await content.ReadAsync(buffer, ct)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                    size += n;
                    options.Progress?.Invoke(size);
                }
            }
            var meta = new LocalMeta { ETag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), Size = size, Metadata = new Dictionary<string, string>(options.Metadata) };
            await File.WriteAllBytesAsync(tmpMeta, JsonSerializer.SerializeToUtf8Bytes(meta, S3PodJson.Default.LocalMeta), ct);

            Directory.CreateDirectory(Path.GetDirectoryName(dataPath)!);
            Directory.CreateDirectory(Path.GetDirectoryName(MetaPath(key))!);
            using (await StoreLock.AcquireAsync(Path.Combine(_root, ControlDir, "lock"), ct))
            {
                var existing = File.Exists(dataPath) ? InfoFor(key, new FileInfo(dataPath)) : null;
                switch (options.Condition)
                {
                    case WriteCondition.Absent when existing is not null:
                        throw S3PodException.Conflict($"{Location}{key} already exists");
                    case WriteCondition.Match m when existing is null || existing.ETag != m.ETag.Trim('"'):
                        throw S3PodException.Conflict($"{Location}{key} changed since it was read (compare-and-swap failed)");
                }
                // Metadata first: a reader that sees the new bytes must find their metadata.
                File.Move(tmpMeta, MetaPath(key), overwrite: true);
                File.Move(tmpData, dataPath, overwrite: true);
            }
            return new ObjectInfo(key, size, DateTimeOffset.UtcNow, meta.ETag, options.Metadata);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw S3PodException.Operational($"cannot write {Location}{key}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw S3PodException.Operational($"cannot write {Location}{key}: permission denied", e);
        }
        finally
        {
            TryDelete(tmpData);
            TryDelete(tmpMeta);
        }
    }

    public Task<(ObjectInfo Info, Stream Content)?> OpenReadAsync(string key, Action<long>? progress, CancellationToken ct)
    {
        var path = DataPath(key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<(ObjectInfo, Stream)?>(null);
        }
        var info = InfoFor(key, new FileInfo(path));
        Stream content = progress is null ? stream : new ProgressStream(stream, progress);
        return Task.FromResult<(ObjectInfo, Stream)?>((info, content));
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
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

    public async Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        var path = DataPath(key);
        using (await StoreLock.AcquireAsync(Path.Combine(_root, ControlDir, "lock"), ct))
        {
            if (!File.Exists(path)) return false;
            File.Delete(path);
            TryDelete(MetaPath(key));
        }
        return true;
    }

    public Task CheckAccessAsync(CancellationToken ct)
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(_root, ControlDir));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"local store {_root} is not usable: {e.Message}", e);
        }
        return Task.CompletedTask;
    }

    public async Task<ConditionalWriteSupport> ProbeConditionalWritesAsync(string probeKey, CancellationToken ct)
    {
        // The lock makes both kinds exact here; still run them so doctor exercises the same path.
        var put = await PutAsync(probeKey, new MemoryStream([1]), new PutOptions(), ct);
        bool createOnly = false, cas = false;
        try { await PutAsync(probeKey, new MemoryStream([2]), new PutOptions { Condition = WriteCondition.IfAbsent }, ct); }
        catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict) { createOnly = true; }
        try
        {
            await PutAsync(probeKey, new MemoryStream([3]), new PutOptions { Condition = WriteCondition.IfMatch(put.ETag!) }, ct);
            cas = true;
        }
        catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict) { }
        await DeleteAsync(probeKey, ct);
        return new ConditionalWriteSupport(createOnly, cas, createOnly && cas ? "create-only and compare-and-swap enforced (store lock)" : "conditional writes not enforced");
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Sidecar metadata of one local object.</summary>
internal sealed class LocalMeta
{
    public string ETag { get; set; } = "";
    public long Size { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = new();
}

/// <summary>An exclusive lock on a file, shared by every s3pod process using the store
/// (.NET takes an advisory flock for FileShare.None on Unix).</summary>
internal static class StoreLock
{
    public static async Task<IDisposable> AcquireAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(Random.Shared.Next(5, 25), ct);
            }
            catch (IOException e)
            {
                throw S3PodException.Operational($"local store is locked by another process ({path}): {e.Message}", e);
            }
        }
    }
}
