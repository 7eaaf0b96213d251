using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using S3Pod.Archive;
using S3Pod.Chunks;
using S3Pod.Local;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Cache;

/// <summary>
/// Chunked entries (schema v3): the tree's tar stream cut into content-defined chunks, each stored
/// once in the bucket's chunk store; the manifest lists them and is the commit point, as for
/// archives. See the README, "Chunked caches", for the protocol of save, update and collection.
/// </summary>
internal sealed partial class CacheService
{
    /// <summary>Save new entries as chunks (the default); false writes one archive per entry as 1.x did.</summary>
    public bool Chunked { get; init; } = true;

    /// <summary>The local chunk cache, or null (<c>chunk_cache = off</c>).</summary>
    public ChunkCache? ChunkCache { get; init; }

    /// <summary>Where the last restore of each path set is recorded (the next save starts from its
    /// chunks); null: not recorded.</summary>
    public string? StateDirectory { get; init; }

    public ICollectionGuard? Guard { get; init; }

    /// <summary>How many of the scope's newest entries (with the same paths) a save reads to learn what the store has.</summary>
    private const int NewestEntriesRead = 2;

    private ICollectionGuard GuardOrDefault => Guard ?? new StoreCollectionGuard(store, reporter.Info, clock, createdBy);

    private static int Workers => Math.Clamp(Environment.ProcessorCount * 3, 4, 16);

    /// <summary>Chunks a restore fetches ahead of the extractor. A chunk GET is a round trip or two
    /// (HEAD, GET) for ~0.5 MiB that mostly waits on the server, so more than the save's workers;
    /// memory is one decompressed chunk per slot.</summary>
    private const int FetchWindow = 16;

    private async Task<SaveResult> SaveChunkedAsync(SaveRequest request, CachePaths paths, string manifestKey, Stopwatch clockWatch, CancellationToken ct)
    {
        var scopeName = request.Scope ?? CacheLayout.DefaultScope;
        SaveResult Skip(string reason) => new(request.Key, request.Scope, false, reason, 0, 0, 0, clockWatch.Elapsed.TotalSeconds);

        if (request.Update && !(await store.GetCapabilitiesAsync(ct)).CompareAndSwap)
            throw S3PodException.Operational($"save --update needs compare-and-swap (PUT with If-Match), which {store.Location} does not enforce (see `s3pod doctor`); save under a new key instead");

        string? replaceETag = null;
        CacheManifest? current = null;
        if (await store.HeadAsync(manifestKey, ct) is { } existing)
        {
            var entry = await OpenEntryAsync(scopeName, request.Key, paths.Version, existing, ct);
            if (entry is not null && !request.Update)
            {
                reporter.Info($"cache {request.Key} already exists in scope {scopeName}; not saving");
                return Skip("exists");
            }
            if (entry is null) reporter.Warn($"cache {request.Key} in scope {scopeName} is broken (its archive is missing or differs from its manifest); replacing it");
            current = entry?.Manifest;
            replaceETag = existing.ETag;
        }

        var inputs = paths.ArchiveInputs(missing => reporter.Warn($"path '{missing}' does not exist; skipped"));
        if (inputs.Count == 0)
            throw S3PodException.Usage($"none of the paths exist ({string.Join(", ", request.Paths)}); nothing to save");

        if (current?.TreeDigest is { } before)
        {
            // A read-only pass first, so that an unchanged tree uploads nothing at all (a changed
            // mtime alone would otherwise send the chunks holding its tar headers).
            var probe = await TarZstd.PackAsync(fileSystem, inputs, Stream.Null, TarZstd.Uncompressed, paths.IsExcluded, ct, treeDigest: true);
            if (probe.TreeDigest == before)
            {
                reporter.Info($"cache {request.Key} in scope {scopeName} is unchanged; not updating");
                return Skip("unchanged");
            }
        }

        await using var intent = await GuardOrDefault.BeginWriteAsync(ct);
        var known = await KnownChunksAsync(scopeName, current is null ? null : manifestKey, [ReadLastRestore(paths.Version)],
            [(v => v == paths.Version, NewestEntriesRead)], ct);
        ArchiveStats? stats = null;
        var upload = await WriteChunksAsync($"save {request.Key}", request.Level, known, intent,
            async (writer, token) => stats = await TarZstd.PackAsync(fileSystem, inputs, writer, TarZstd.Uncompressed, paths.IsExcluded, token, treeDigest: true), ct);
        var manifest = new CacheManifest(CacheManifest.ChunkedSchema, CacheManifest.ChunkedFormat, request.Key, scopeName, paths.Version, paths.Specs,
            stats!.Files + stats.Symlinks + stats.HardLinks, stats.UncompressedBytes, upload.StoredBytes, ListDigest(upload), null, null, clock.GetUtcNow(),
            createdBy, upload.Chunks, stats.TreeDigest, upload.UploadedBytes, upload.UploadedChunks);
        return await CommitChunkedAsync(request, manifestKey, manifest, replaceETag, current is not null, upload, clockWatch, $"{manifest.Files} files", ct);
    }

    /// <summary>Runs <paramref name="produce"/> (the packer, or an image's stream) into a chunk writer
    /// and waits for every upload. An upload that failed and stopped the producer is the error reported.</summary>
    private async Task<ChunkUploadStats> WriteChunksAsync(string label, int level, IReadOnlyDictionary<string, long> known, IWriteIntent intent,
        Func<ChunkWriter, CancellationToken, Task> produce, CancellationToken ct)
    {
        ChunkUploadStats upload;
        using (var progress = reporter.Progress(label, null))
        {
            using var writer = new ChunkWriter(store, FastCdc.Default, level, known, Workers, progress.Report, ct);
            try
            {
                await produce(writer, ct);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await writer.ThrowWorkerFailureAsync(); // an upload failed and stopped the producer: that is the error
                throw;
            }
            catch
            {
                await writer.AbortAsync();
                throw;
            }
            upload = await writer.CompleteAsync();
        }
        if (!intent.StillProtects) await CheckReusedAsync(upload, known, ct);
        return upload;
    }

    private static string ListDigest(ChunkUploadStats upload) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Concat(upload.Chunks.Select(c => c.Sha256 + "\n")))));

    /// <summary>Commits a chunked entry's manifest: create-only for a new key, compare-and-swap on the
    /// manifest read at the start for an update (or a broken entry); losing is a skip, not an error.</summary>
    private async Task<SaveResult> CommitChunkedAsync(SaveRequest request, string manifestKey, CacheManifest manifest, string? replaceETag, bool updating,
        ChunkUploadStats upload, Stopwatch clockWatch, string what, CancellationToken ct)
    {
        if (!await CommitAsync(manifestKey, manifest, replaceETag, ct))
        {
            bool update = replaceETag is not null;
            reporter.Info(update ? $"cache {request.Key} was updated meanwhile by another job; not updating" : $"cache {request.Key} was saved meanwhile by another job; not saving");
            return new SaveResult(request.Key, request.Scope, false, update ? "updated-meanwhile" : "created-meanwhile", 0, 0, 0, clockWatch.Elapsed.TotalSeconds,
                Image: manifest.Image);
        }
        reporter.Info($"{(updating ? "updated" : "saved")} cache {request.Key}: {what}, {TransferProgress.Size(manifest.UncompressedSize)} in {upload.Chunks.Count} chunks; " +
            $"uploaded {TransferProgress.Size(upload.UploadedBytes)} ({upload.UploadedChunks} chunks), reused {TransferProgress.Size(upload.ReusedBytes)} in {clockWatch.Elapsed.TotalSeconds:0.00} s");
        return new SaveResult(request.Key, request.Scope, true, null, manifest.Size, manifest.Files, manifest.UncompressedSize, clockWatch.Elapsed.TotalSeconds,
            upload.UploadedBytes, upload.ReusedBytes, upload.Chunks.Count, upload.UploadedChunks, updating, manifest.Image, manifest.ImageId);
    }

    /// <summary>A save that outlived its intent's protection: a collector may have taken it for a
    /// crashed save, so every chunk it reused rather than uploaded must still be there.</summary>
    private async Task CheckReusedAsync(ChunkUploadStats upload, IReadOnlyDictionary<string, long> known, CancellationToken ct)
    {
        foreach (var digest in upload.Chunks.Select(c => c.Sha256).Where(known.ContainsKey).Distinct())
        {
            if (await store.HeadAsync(ChunkLayout.Chunk(digest), ct) is null)
                throw S3PodException.Operational($"chunk {digest} was collected while this (long) save ran; nothing was committed: save again");
        }
    }

    /// <summary>
    /// What the store holds, from manifests read now (after the intent is up, so a collection
    /// cannot remove their chunks before this save commits): the entry being updated
    /// (<paramref name="currentManifest"/>), the entries this runner last restored, and the scope's
    /// newest entries of each version selection (for paths: the same paths; for images: any image).
    /// </summary>
    private async Task<Dictionary<string, long>> KnownChunksAsync(string scope, string? currentManifest, IEnumerable<LastRestoreRecord?> lastRestores,
        IReadOnlyList<(Func<string, bool> Version, int Count)> newest, CancellationToken ct)
    {
        var known = new Dictionary<string, long>(StringComparer.Ordinal);
        var read = new HashSet<string>(StringComparer.Ordinal);
        async Task AddAsync(string manifestKey)
        {
            if (!read.Add(manifestKey)) return;
            if (await ReadManifestAsync(manifestKey, ct) is { Chunks: { } chunks })
                foreach (var c in chunks) known[c.Sha256] = c.Stored;
        }
        // Read again rather than trusted: it must be committed now, after the intent.
        if (currentManifest is not null) await AddAsync(currentManifest);
        foreach (var last in lastRestores)
            if (last is not null) await AddAsync(CacheLayout.Manifest(last.Scope, last.Key, last.Version));
        var listed = new List<(string Version, ObjectInfo Manifest)>();
        await foreach (var o in store.ListAsync(CacheLayout.ScopePrefix(scope), ct))
            if (CacheLayout.Parse(o.Key) is { IsManifest: true } n && newest.Any(s => s.Version(n.Version))) listed.Add((n.Version, o));
        foreach (var (version, count) in newest)
            foreach (var (_, o) in listed.Where(l => version(l.Version)).OrderByDescending(l => l.Manifest.LastModified).Take(count)) await AddAsync(o.Key);
        return known;
    }

    private async Task<ArchiveStats?> ExtractChunkedAsync(Entry entry, CachePaths paths, CancellationToken ct)
    {
        var chunks = entry.Manifest.Chunks!;
        ArchiveStats stats;
        long fetched, cached;
        using (var progress = reporter.Progress($"restore {entry.Key}", entry.Manifest.Size))
        {
            await using var reader = new ChunkReader(store, chunks, ChunkCache, FetchWindow, progress.Report, ct);
            try
            {
                stats = await TarZstd.UnpackAsync(fileSystem, reader, paths.Locator(), ct, compressed: false);
            }
            catch (ChunkMissingException e)
            {
                reporter.Warn($"cache {entry.Key} lost a chunk while it was being restored ({e.Message}: pruned meanwhile?); treated as a miss");
                return null;
            }
            fetched = reader.FetchedBytes;
            cached = reader.CachedBytes;
        }
        _lastDownload = (fetched, cached);
        ChunkCache?.Trim();
        WriteLastRestore(entry, entry.Version);
        return stats;
    }

    private (long Fetched, long Cached)? _lastDownload;

    /// <summary>Compressed bytes downloaded and uncompressed bytes from the chunk cache by the last chunked restore.</summary>
    internal (long Fetched, long Cached)? LastDownload => _lastDownload;

    /// <summary>One record per slot: a path set's version, or a name standing for a group of
    /// versions (every image), whose record then holds the version actually restored.</summary>
    private string? LastRestorePath(string slot)
    {
        if (StateDirectory is null) return null;
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store.Location + "\n" + slot)))[..24];
        return Path.Combine(StateDirectory, "last-restore", id + ".json");
    }

    /// <param name="anyVersion">A group slot: the record may hold any version; else it must hold the slot's.</param>
    private LastRestoreRecord? ReadLastRestore(string slot, bool anyVersion = false)
    {
        if (LastRestorePath(slot) is not { } path) return null;
        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), ChunkJson.Default.LastRestoreRecord);
            return record?.Schema == LastRestoreRecord.CurrentSchema && record.Location == store.Location && (anyVersion || record.Version == slot) ? record : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private void WriteLastRestore(Entry entry, string slot)
    {
        if (LastRestorePath(slot) is not { } path) return;
        try
        {
            AtomicFile.WriteJson(path,
                new LastRestoreRecord(LastRestoreRecord.CurrentSchema, store.Location, entry.Scope, entry.Key, entry.Version, clock.GetUtcNow()), ChunkJson.Default.LastRestoreRecord);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reporter.Warn($"could not record the restore in {path}: {e.Message}");
        }
    }

    /// <summary>Entry id → manifest, for the chunked entries among <paramref name="manifests"/>.</summary>
    private async Task<Dictionary<string, CacheManifest>> ChunkedManifestsAsync(IEnumerable<(string Id, ObjectInfo Manifest)> manifests, CancellationToken ct)
    {
        var result = new Dictionary<string, CacheManifest>(StringComparer.Ordinal);
        foreach (var (id, o) in manifests)
            if (await ReadManifestAsync(o.Key, ct) is { IsChunked: true } m) result[id] = m;
        return result;
    }

    /// <summary>
    /// Chunk collection, after eviction. Under the collection lease it lists every committed
    /// manifest in every scope (not only those prune selected) and deletes the chunks none names.
    /// A manifest it cannot read stops the collection: its chunks cannot be told apart.
    /// </summary>
    private async Task<CollectResult> CollectChunksAsync(TimeSpan grace, bool dryRun, CancellationToken ct)
    {
        var result = await ChunkStore.CollectAsync(store, GuardOrDefault, async token =>
        {
            var live = new HashSet<string>(StringComparer.Ordinal);
            await foreach (var o in store.ListAsync(CacheLayout.Root, token))
            {
                if (CacheLayout.Parse(o.Key) is not { IsManifest: true }) continue;
                var manifest = await ReadManifestAsync(o.Key, token);
                if (manifest is null && await store.HeadAsync(o.Key, token) is not null)
                    throw S3PodException.Operational($"manifest {o.Key} is unreadable; chunk collection stopped (it cannot tell which chunks that entry needs)");
                foreach (var c in manifest?.Chunks ?? []) live.Add(c.Sha256);
            }
            return live;
        }, grace, clock.GetUtcNow(), dryRun, reporter.Info, ct);
        if (result.Deferred) return result;
        reporter.Info($"chunks: {(dryRun ? "would delete" : "deleted")} {result.Chunks} unreferenced ({TransferProgress.Size(result.Bytes)}); kept {result.Kept} ({TransferProgress.Size(result.KeptBytes)})" +
            (result.Young > 0 ? $", {result.Young} of them unreferenced but younger than {grace}" : ""));
        return result;
    }
}
