using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using S3Pod.Archive;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;

namespace S3Pod.Cache;

/// <summary>
/// actions/cache's save and restore, done on a plain object store: immutable entries committed by a
/// create-only manifest, exact key before restore-key prefixes, scopes searched in order, last-use
/// marks for eviction, and an explanation on every miss. <paramref name="createdBy"/> is what each
/// manifest records as its writer (e.g. "s3pod 1.0.0"): the caller knows the version.
/// </summary>
internal sealed partial class CacheService(IObjectStore store, Reporter reporter, TimeProvider clock, string workingDirectory, string home, IFileSystem fileSystem, string createdBy)
{
    public const string Format = "tar+zstd/1";

    /// <summary>An archive no manifest names is garbage once no save can still be committing it.</summary>
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromHours(1);

    /// <summary>
    /// Save protocol: (1) the manifest exists and its archive is intact: skip. (2) Upload the archive
    /// under a name of this writer's own (no two saves ever write one object). (3) Write the manifest
    /// create-only — or, replacing a broken entry, compare-and-swap on the broken manifest. Losing
    /// that write means another job saved first: delete our archive and report a skip. Where the
    /// server ignores create-only, read the manifest back: whoever it names won.
    /// </summary>
    public async Task<SaveResult> SaveAsync(SaveRequest request, CancellationToken ct)
    {
        var clockWatch = Stopwatch.StartNew();
        var scopeName = request.Scope ?? CacheLayout.DefaultScope;
        var paths = new CachePaths(request.Paths, workingDirectory, home);
        var manifestKey = CacheLayout.Manifest(request.Scope, request.Key, paths.Version);
        SaveResult Skip(string reason) => new(request.Key, request.Scope, false, reason, 0, 0, 0, clockWatch.Elapsed.TotalSeconds);

        if (Chunked || request.Update) return await SaveChunkedAsync(request, paths, manifestKey, clockWatch, ct);

        string? replaceETag = null;
        if (await store.HeadAsync(manifestKey, ct) is { } existing)
        {
            var entry = await OpenEntryAsync(scopeName, request.Key, paths.Version, existing, ct);
            if (entry is not null)
            {
                reporter.Info($"cache {request.Key} already exists in scope {scopeName}; not saving");
                return Skip("exists");
            }
            reporter.Warn($"cache {request.Key} in scope {scopeName} is broken (its archive is missing or differs from its manifest); replacing it");
            replaceETag = existing.ETag;
        }

        var inputs = paths.ArchiveInputs(missing => reporter.Warn($"path '{missing}' does not exist; skipped"));
        if (inputs.Count == 0)
            throw S3PodException.Usage($"none of the paths exist ({string.Join(", ", request.Paths)}); nothing to save");

        var writer = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var archiveKey = CacheLayout.Archive(request.Scope, request.Key, paths.Version, writer);
        ArchiveStats? stats = null;
        HashingReadStream? hashed = null;
        ObjectInfo archive;
        using (var progress = reporter.Progress($"save {request.Key}", null))
        {
            var outcome = await StreamPipe.RunAsync(
                async (output, token) => stats = await TarZstd.PackAsync(fileSystem, inputs, output, request.Level, paths.IsExcluded, token),
                async (input, token) =>
                {
                    hashed = new HashingReadStream(input);
                    return await store.PutAsync(archiveKey, hashed, new PutOptions
                    {
                        Metadata = new Dictionary<string, string> { [MetadataKeys.Format] = Format },
                        Progress = progress.Report,
                    }, token);
                }, ct);
            archive = ((PutOutcome.Written)outcome).Object;
        }

        var manifest = new CacheManifest(CacheManifest.CurrentSchema, Format, request.Key, scopeName, paths.Version, paths.Specs,
            stats!.Files + stats.Symlinks + stats.HardLinks, stats.UncompressedBytes, hashed!.BytesRead, hashed.Sha256, archive.ETag,
            ArchiveName(archiveKey), clock.GetUtcNow(), createdBy);
        bool won;
        try
        {
            won = await CommitAsync(manifestKey, manifest, replaceETag, ct);
        }
        catch
        {
            await DeleteQuietlyAsync(archiveKey);
            throw;
        }
        if (!won)
        {
            await DeleteQuietlyAsync(archiveKey);
            reporter.Info($"cache {request.Key} was saved meanwhile by another job; not saving");
            return Skip("created-meanwhile");
        }
        reporter.Info($"saved cache {request.Key}: {manifest.Files} files, {TransferProgress.Size(manifest.UncompressedSize)} -> {TransferProgress.Size(manifest.Size)} in {clockWatch.Elapsed.TotalSeconds:0.00} s");
        return new SaveResult(request.Key, request.Scope, true, null, manifest.Size, manifest.Files, manifest.UncompressedSize, clockWatch.Elapsed.TotalSeconds);
    }

    private async Task<bool> CommitAsync(string manifestKey, CacheManifest manifest, string? replaceETag, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(manifest, CacheJson.Default.CacheManifest);
        var outcome = await store.PutAsync(manifestKey, new MemoryStream(body), new PutOptions
        {
            Condition = replaceETag is null ? WriteCondition.IfAbsent : WriteCondition.IfMatch(replaceETag),
            Length = body.Length,
            ContentType = "application/json",
        }, ct);
        if (outcome is PutOutcome.PreconditionFailed) return false;
        if ((await store.GetCapabilitiesAsync(ct)).CreateOnly) return true;
        // The server may have let a racing save overwrite the manifest: the one it names now won.
        var stored = await ReadManifestAsync(manifestKey, ct);
        return stored is not null && stored.Archive == manifest.Archive && stored.Sha256 == manifest.Sha256 && stored.Created == manifest.Created;
    }

    private static string ArchiveName(string archiveKey) => archiveKey[(archiveKey.LastIndexOf('/') + 1)..];

    private async Task DeleteQuietlyAsync(string key)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await store.DeleteAsync(key, timeout.Token);
        }
        catch (Exception e) when (e is S3PodException or OperationCanceledException)
        {
            reporter.Warn($"could not remove {key} ({e.Message}); `s3pod prune` removes such leftovers");
        }
    }

    /// <summary>A committed entry whose archive is there and matches its manifest.</summary>
    private sealed record Entry(string Scope, string Key, string Version, CacheManifest Manifest, ObjectInfo Archive);

    public async Task<RestoreResult> RestoreAsync(RestoreRequest request, CancellationToken ct)
    {
        var clockWatch = Stopwatch.StartNew();
        var paths = new CachePaths(request.Paths, workingDirectory, home);
        await foreach (var candidate in CandidatesAsync(request, paths.Version, ct))
        {
            var entry = await OpenEntryAsync(candidate.Scope, candidate.Key, paths.Version, candidate.Manifest, ct);
            if (entry is null)
            {
                reporter.Warn($"cache {candidate.Key} in scope {candidate.Scope} is incomplete or was removed meanwhile; treated as a miss");
                continue;
            }
            bool exact = entry.Key == request.Key;
            reporter.Info($"HIT {request.Key} -> {entry.Key}{(exact ? "" : " (restore key)")} in scope {entry.Scope}, {TransferProgress.Size(entry.Archive.Size)}");
            if (request.LookupOnly)
                return new RestoreResult(request.Key, entry.Key, exact, entry.Scope, entry.Archive.Size, false, true, null, clockWatch.Elapsed.TotalSeconds, null);

            var stats = await ExtractAsync(entry, paths, ct);
            if (stats is null) continue; // vanished while being read
            await TouchAsync(entry, ct);
            long files = stats.Files + stats.Symlinks + stats.HardLinks;
            reporter.Info($"restored {entry.Key}: {files} files, {TransferProgress.Size(stats.UncompressedBytes)} in {clockWatch.Elapsed.TotalSeconds:0.00} s");
            return new RestoreResult(request.Key, entry.Key, exact, entry.Scope, entry.Archive.Size, true, false, files, clockWatch.Elapsed.TotalSeconds, null,
                entry.Manifest.IsChunked ? LastDownload?.Fetched : null, entry.Manifest.IsChunked ? LastDownload?.Cached : null);
        }
        var miss = await new MissExplainer(store).ExplainAsync(request, paths, ct);
        reporter.Info($"MISS {request.Key}: {miss.Summary}");
        foreach (var reason in miss.Reasons) reporter.Info($"  {reason}");
        return new RestoreResult(request.Key, null, false, null, null, false, request.LookupOnly, null, clockWatch.Elapsed.TotalSeconds, miss);
    }

    public async Task<ExplainResult> ExplainAsync(RestoreRequest request, CancellationToken ct)
    {
        var paths = new CachePaths(request.Paths, workingDirectory, home);
        await foreach (var candidate in CandidatesAsync(request, paths.Version, ct))
        {
            if (await OpenEntryAsync(candidate.Scope, candidate.Key, paths.Version, candidate.Manifest, ct) is { } entry)
            {
                reporter.Info($"a restore would match {entry.Key} in scope {entry.Scope}{(entry.Key == request.Key ? " (exact key)" : " (restore key)")}");
                return new ExplainResult(request.Key, true, entry.Key, entry.Scope, entry.Key == request.Key, null);
            }
        }
        var miss = await new MissExplainer(store).ExplainAsync(request, paths, ct);
        reporter.Info($"MISS {request.Key}: {miss.Summary}");
        foreach (var reason in miss.Reasons) reporter.Info($"  {reason}");
        return new ExplainResult(request.Key, false, null, null, false, miss);
    }

    /// <summary>Unpacks the entry's archive, checked against its manifest (size and sha256). Returns
    /// null when the archive vanished or was replaced while being read (a racing prune): a miss.</summary>
    private async Task<ArchiveStats?> ExtractAsync(Entry entry, CachePaths paths, CancellationToken ct)
    {
        if (entry.Manifest.IsChunked) return await ExtractChunkedAsync(entry, paths, ct);
        try
        {
            await using var opened = await store.OpenReadAsync(entry.Archive.Key, new ReadOptions { IfMatch = entry.Archive.ETag }, ct);
            if (opened is null) return null;
            using var progress = reporter.Progress($"restore {entry.Key}", opened.Info.Size);
            await using var content = new HashingReadStream(new ProgressStream(opened.Content, progress.Report),
                TrustedDigest(entry), entry.Manifest.Size, $"cache {entry.Key}");
            return await TarZstd.UnpackAsync(fileSystem, content, paths.Locator(), ct);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.Changed)
        {
            reporter.Warn($"cache {entry.Key} changed while it was being restored ({e.Message}); treated as a miss");
            return null;
        }
    }

    /// <summary>A 1.0 manifest may describe another save's archive (the race this layout removed):
    /// its digest is only trusted when it recorded this very object.</summary>
    private static string? TrustedDigest(Entry entry) =>
        entry.Manifest.Schema is not null || entry.Manifest.ETag == entry.Archive.ETag ? entry.Manifest.Sha256 : null;

    /// <summary>Exact key first (it wins over any newer prefix match), then each restore key as a
    /// prefix, newest first; in the current scope, then each fallback scope in order.</summary>
    private async IAsyncEnumerable<(string Scope, string Key, ObjectInfo Manifest)> CandidatesAsync(RestoreRequest request, string version,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var scopes = new List<string> { request.Scope ?? CacheLayout.DefaultScope };
        foreach (var s in request.FallbackScopes) if (!scopes.Contains(s)) scopes.Add(s);
        foreach (var scope in scopes)
        {
            if (await store.HeadAsync(CacheLayout.Manifest(scope, request.Key, version), ct) is { } exact)
                yield return (scope, request.Key, exact);
            foreach (var prefix in request.RestoreKeys)
            {
                var matches = new List<(string Key, ObjectInfo Manifest)>();
                await foreach (var o in store.ListAsync(CacheLayout.ScopePrefix(scope) + prefix, ct))
                {
                    if (CacheLayout.Parse(o.Key) is { IsManifest: true } name && name.Version == version && name.Key != request.Key)
                        matches.Add((name.Key, o));
                }
                foreach (var (key, manifest) in matches.OrderByDescending(m => m.Manifest.LastModified))
                    yield return (scope, key, manifest);
            }
        }
    }

    /// <summary>Reads a manifest and finds its archive; null when either is missing, unreadable, or
    /// they disagree (size) — an entry no restore could use.</summary>
    private async Task<Entry?> OpenEntryAsync(string scope, string key, string version, ObjectInfo manifestObject, CancellationToken ct)
    {
        var manifest = await ReadManifestAsync(manifestObject.Key, ct);
        if (manifest is null) return null;
        // A chunked entry is whole once its manifest is: chunks are checked as they are read.
        if (manifest.IsChunked) return new Entry(scope, key, version, manifest, manifestObject with { Size = manifest.Size });
        var archiveKey = manifest.Archive is { } name ? CacheLayout.ScopePrefix(scope) + key + "/" + name : CacheLayout.Archive(scope, key, version, null);
        if (!archiveKey.StartsWith(CacheLayout.EntryPrefix(scope, key, version), StringComparison.Ordinal) && manifest.Archive is not null)
            return null; // a manifest must only name an archive of its own entry
        var archive = await store.HeadAsync(archiveKey, ct);
        if (archive is null || archive.Size != manifest.Size) return null;
        return new Entry(scope, key, version, manifest, archive);
    }

    private async Task<CacheManifest?> ReadManifestAsync(string manifestKey, CancellationToken ct)
    {
        try
        {
            await using var opened = await store.OpenReadAsync(manifestKey, ReadOptions.Default, ct);
            if (opened is null) return null;
            return await JsonSerializer.DeserializeAsync(opened.Content, CacheJson.Default.CacheManifest, ct);
        }
        catch (JsonException)
        {
            reporter.Warn($"manifest {manifestKey} is unreadable");
            return null;
        }
        catch (StorageException e) when (e.Failure == StorageFailure.Changed)
        {
            return null;
        }
    }

    /// <summary>A one-byte write per restore is the cheapest "last used" record S3 allows; prune reads it.</summary>
    private async Task TouchAsync(Entry entry, CancellationToken ct)
    {
        try
        {
            await store.PutAsync(CacheLayout.Used(entry.Scope, entry.Key, entry.Version), new MemoryStream([0x31]), new PutOptions { Length = 1 }, ct);
        }
        catch (S3PodException e)
        {
            reporter.Warn($"could not record the use of cache {entry.Key}: {e.Message}");
        }
    }

    public async Task<InspectResult> InspectAsync(string key, string? scope, CancellationToken ct)
    {
        var entries = new List<InspectEntry>();
        var used = await LastUsedAsync(ct);
        await foreach (var o in store.ListAsync(scope is null ? CacheLayout.Root : CacheLayout.ScopePrefix(scope), ct))
        {
            if (CacheLayout.Parse(o.Key) is not { IsManifest: true } p || p.Key != key) continue;
            var entry = await OpenEntryAsync(p.Scope, p.Key, p.Version, o, ct);
            var manifest = entry?.Manifest ?? await ReadManifestAsync(o.Key, ct);
            var usedKey = CacheLayout.Used(p.Scope, p.Key, p.Version);
            entries.Add(new InspectEntry(entry?.Archive.Key ?? o.Key, p.Scope, p.Key, p.Version, entry?.Archive.Size ?? 0, o.LastModified,
                used.TryGetValue(usedKey, out var u) && u > o.LastModified ? u : o.LastModified, manifest is null ? null : manifest with { Chunks = null },
                manifest?.Chunks?.Count, manifest?.IsChunked == true ? manifest.Size : null, manifest?.IsChunked == true ? manifest.UncompressedSize : null, manifest?.UploadedBytes));
        }
        return new InspectResult(key, entries);
    }

    /// <summary>Evicts by last use (restore marks), oldest first: entries unused for longer than
    /// <paramref name="olderThan"/>, then more until the total is at most <paramref name="maxTotal"/>.
    /// Also removes archives no manifest names (lost races, crashed saves) once they are an hour old.</summary>
    /// <param name="grace">Then collect chunks no entry references once they are this old; null: no collection.</param>
    public async Task<PruneResult> PruneAsync(string keyPrefix, TimeSpan? olderThan, long? maxTotal, bool dryRun, CancellationToken ct, TimeSpan? grace = null)
    {
        var now = clock.GetUtcNow();
        var used = await LastUsedAsync(ct);
        var manifests = new Dictionary<string, (CacheLayout.Name Name, ObjectInfo Object)>(StringComparer.Ordinal);
        var archives = new Dictionary<string, List<ObjectInfo>>(StringComparer.Ordinal);
        await foreach (var o in store.ListAsync(CacheLayout.Root, ct))
        {
            if (CacheLayout.Parse(o.Key) is not { } p || !p.Key.StartsWith(keyPrefix, StringComparison.Ordinal)) continue;
            var entryId = CacheLayout.EntryPrefix(p.Scope, p.Key, p.Version);
            if (p.IsManifest) manifests[entryId] = (p, o);
            else (archives.TryGetValue(entryId, out var list) ? list : archives[entryId] = new()).Add(o);
        }

        var all = new List<(PruneEntry Entry, string Id)>();
        var chunked = await ChunkedManifestsAsync(manifests.Select(m => (m.Key, m.Value.Object)), ct);
        foreach (var (id, (p, manifest)) in manifests)
        {
            long size = chunked.TryGetValue(id, out var cm) ? cm.Size : archives.TryGetValue(id, out var list) ? list.Sum(a => a.Size) : 0;
            var usedKey = CacheLayout.Used(p.Scope, p.Key, p.Version);
            var lastUsed = used.TryGetValue(usedKey, out var u) && u > manifest.LastModified ? u : manifest.LastModified;
            all.Add((new PruneEntry(p.Scope, p.Key, p.Version, size, lastUsed), id));
        }
        all.Sort((a, b) => a.Entry.LastUsed.CompareTo(b.Entry.LastUsed));
        var doomed = new List<(PruneEntry Entry, string Id)>();
        long total = all.Sum(a => a.Entry.Size);
        foreach (var item in all)
        {
            bool tooOld = olderThan is { } age && now - item.Entry.LastUsed > age;
            bool overBudget = maxTotal is { } budget && total > budget;
            if (!tooOld && !overBudget) continue;
            doomed.Add(item);
            total -= item.Entry.Size;
        }
        foreach (var (entry, id) in doomed)
        {
            reporter.Info($"{(dryRun ? "would delete" : "delete")} {entry.Scope}/{entry.Key} ({TransferProgress.Size(entry.Size)}, last used {entry.LastUsed:u})");
            if (dryRun) continue;
            // The manifest goes first: once it is gone the entry is gone (a racing restore misses
            // cleanly), whatever happens to the rest. Only the version we looked at: a save that
            // replaced it meanwhile is kept.
            var (_, manifest) = manifests[id];
            if (await store.DeleteAsync(manifest.Key, ct, manifest.ETag) == DeleteOutcome.PreconditionFailed) continue;
            foreach (var a in archives.GetValueOrDefault(id) ?? []) await store.DeleteAsync(a.Key, ct);
            await store.DeleteAsync(CacheLayout.Used(entry.Scope, entry.Key, entry.Version), ct);
        }

        // Archives of no committed entry: a lost race or a save that died before its manifest.
        var doomedIds = doomed.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        int orphans = 0;
        foreach (var (id, list) in archives)
        {
            if (doomedIds.Contains(id)) continue; // deleted with its entry
            string? keep = null;
            if (manifests.TryGetValue(id, out var committed))
            {
                if (list.Count == 1 && !chunked.ContainsKey(id)) continue; // the entry's own archive
                keep = await ArchiveNamedByAsync(committed.Object, ct);
                if (keep is null) continue; // an unreadable manifest: leave the entry alone
            }
            foreach (var a in list)
            {
                if (a.Key == keep || now - a.LastModified < OrphanGrace) continue;
                orphans++;
                if (!dryRun) await store.DeleteAsync(a.Key, ct);
            }
        }
        Chunks.CollectResult? collected = grace is { } g ? await CollectChunksAsync(g, dryRun, ct) : null;
        return new PruneResult(dryRun, doomed.Select(d => d.Entry).ToList(), doomed.Sum(d => d.Entry.Size), all.Count - doomed.Count, total, orphans, collected);
    }

    private async Task<string?> ArchiveNamedByAsync(ObjectInfo manifestObject, CancellationToken ct)
    {
        var manifest = await ReadManifestAsync(manifestObject.Key, ct);
        if (manifest is null || CacheLayout.Parse(manifestObject.Key) is not { } p) return null;
        if (manifest.IsChunked) return ""; // names no archive: every one in its directory is a leftover
        return manifest.Archive is { } name ? CacheLayout.ScopePrefix(p.Scope) + p.Key + "/" + name : CacheLayout.Archive(p.Scope, p.Key, p.Version, null);
    }

    /// <summary>Last-use mark object name → time of the last restore.</summary>
    private async Task<Dictionary<string, DateTimeOffset>> LastUsedAsync(CancellationToken ct)
    {
        var used = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await foreach (var o in store.ListAsync(CacheLayout.UsedRoot, ct)) used[o.Key] = o.LastModified;
        return used;
    }
}
