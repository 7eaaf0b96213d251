using System.Diagnostics;
using System.Text.Json;
using S3Pod.Archive;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Cache;

/// <summary>What a save/restore cache object records about itself (stored next to it as JSON).</summary>
internal sealed record CacheManifest(
    string Format,
    string Key,
    string Scope,
    string Version,
    IReadOnlyList<string> Paths,
    long Files,
    long UncompressedSize,
    long Size,
    string Sha256,
    string? ETag,
    DateTimeOffset Created,
    string CreatedBy);

internal sealed record SaveRequest(string Key, IReadOnlyList<string> Paths, string? Scope, int Level);

internal sealed record SaveResult(string Key, string? Scope, bool Saved, string? SkippedReason, long Size, long Files, long UncompressedSize, double Seconds);

internal sealed record RestoreRequest(
    string Key,
    IReadOnlyList<string> RestoreKeys,
    IReadOnlyList<string> Paths,
    string? Scope,
    IReadOnlyList<string> FallbackScopes,
    bool LookupOnly);

internal sealed record RestoreResult(
    string PrimaryKey,
    string? MatchedKey,
    bool ExactMatch,
    string? MatchedScope,
    long? Size,
    bool Restored,
    bool LookupOnly,
    long? Files,
    double Seconds);

internal sealed record InspectEntry(string Object, string Scope, string Key, string Version, long Size, DateTimeOffset LastModified, DateTimeOffset LastUsed, CacheManifest? Manifest);

internal sealed record InspectResult(string Key, IReadOnlyList<InspectEntry> Entries);

internal sealed record PruneEntry(string Scope, string Key, string Version, long Size, DateTimeOffset LastUsed);

internal sealed record PruneResult(bool DryRun, IReadOnlyList<PruneEntry> Deleted, long FreedBytes, int Kept, long KeptBytes);

/// <summary>
/// actions/cache's save and restore, done on a plain object store: immutable entries written
/// create-only, exact key before restore-key prefixes, scopes searched in order, last-use marks
/// for eviction.
/// </summary>
internal sealed class CacheService(IObjectStore store, Reporter reporter, string workingDirectory, string home, IFileSystem fileSystem)
{
    public const string Format = "tar+zstd/1";

    public async Task<SaveResult> SaveAsync(SaveRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var paths = new CachePaths(request.Paths, workingDirectory, home);
        var objectKey = CacheLayout.Archive(request.Scope, request.Key, paths.Version);
        if (await store.HeadAsync(objectKey, ct) is not null)
        {
            reporter.Info($"cache {request.Key} already exists in scope {request.Scope ?? CacheLayout.DefaultScope}; not saving");
            return new SaveResult(request.Key, request.Scope, false, "exists", 0, 0, 0, clock.Elapsed.TotalSeconds);
        }
        var inputs = paths.ArchiveInputs(missing => reporter.Warn($"path '{missing}' does not exist; skipped"));
        if (inputs.Count == 0)
            throw S3PodException.Usage($"none of the paths exist ({string.Join(", ", request.Paths)}); nothing to save");

        ArchiveStats? stats = null;
        HashingReadStream? hashed = null;
        using var progress = reporter.Progress($"save {request.Key}", null);
        ObjectInfo info;
        try
        {
            info = await StreamPipe.RunAsync(
                async (output, token) => stats = await TarZstd.PackAsync(fileSystem, inputs, output, request.Level, paths.IsExcluded, token),
                async (input, token) =>
                {
                    hashed = new HashingReadStream(input);
                    return await store.PutAsync(objectKey, hashed, new PutOptions
                    {
                        // Create-only: of two jobs saving the same key at once, exactly one wins on servers
                        // that enforce it; elsewhere the last complete upload wins, never a mix.
                        Condition = WriteCondition.IfAbsent,
                        Metadata = new Dictionary<string, string> { ["s3pod-format"] = Format, ["s3pod-version"] = paths.Version },
                        Progress = progress.Report,
                    }, token);
                }, ct);
        }
        catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict)
        {
            reporter.Info($"cache {request.Key} was saved meanwhile by another job; not saving");
            return new SaveResult(request.Key, request.Scope, false, "exists", 0, 0, 0, clock.Elapsed.TotalSeconds);
        }

        var manifest = new CacheManifest(Format, request.Key, request.Scope ?? CacheLayout.DefaultScope, paths.Version, paths.Specs,
            stats!.Files + stats.Symlinks + stats.HardLinks, stats.UncompressedBytes, hashed!.BytesRead, hashed.Sha256, info.ETag,
            DateTimeOffset.UtcNow, $"s3pod {Commands.CliApp.Version}");
        await store.PutAsync(CacheLayout.Manifest(request.Scope, request.Key, paths.Version),
            new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(manifest, S3PodJson.Default.CacheManifest)), new PutOptions(), ct);
        reporter.Info($"saved cache {request.Key}: {manifest.Files} files, {TransferProgress.Size(manifest.UncompressedSize)} -> {TransferProgress.Size(manifest.Size)} in {clock.Elapsed.TotalSeconds:0.00} s");
        return new SaveResult(request.Key, request.Scope, true, null, manifest.Size, manifest.Files, manifest.UncompressedSize, clock.Elapsed.TotalSeconds);
    }

    public async Task<RestoreResult> RestoreAsync(RestoreRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var paths = new CachePaths(request.Paths, workingDirectory, home);
        var found = await FindAsync(request, paths.Version, ct);
        if (found is null)
        {
            reporter.Info($"MISS {request.Key}{(request.RestoreKeys.Count > 0 ? $" (restore keys: {string.Join(", ", request.RestoreKeys)})" : "")}");
            return new RestoreResult(request.Key, null, false, null, null, false, request.LookupOnly, null, clock.Elapsed.TotalSeconds);
        }
        var (scope, key, entry) = found.Value;
        bool exact = key == request.Key;
        reporter.Info($"HIT {request.Key} -> {key}{(exact ? "" : " (restore key)")} in scope {scope}, {TransferProgress.Size(entry.Size)}");
        if (request.LookupOnly)
            return new RestoreResult(request.Key, key, exact, scope, entry.Size, false, true, null, clock.Elapsed.TotalSeconds);

        var manifest = await ReadManifestAsync(scope, key, paths.Version, ct);
        var opened = await store.OpenReadAsync(CacheLayout.Archive(scope, key, paths.Version), null, ct)
            ?? throw S3PodException.NotFound($"cache {key} disappeared while restoring (evicted?)");
        ArchiveStats stats;
        using (var progress = reporter.Progress($"restore {key}", opened.Info.Size))
        await using (var content = new HashingReadStream(new ProgressStream(opened.Content, progress.Report),
            // Trust the manifest's digest only if it describes this very object (a racing save may have replaced it).
            manifest is not null && manifest.ETag == opened.Info.ETag ? manifest.Sha256 : null, opened.Info.Size, $"cache {key}"))
        {
            stats = await TarZstd.UnpackAsync(fileSystem, content, paths.Locator(), ct);
        }
        await TouchAsync(scope, key, paths.Version, ct);
        reporter.Info($"restored {key}: {stats.Files + stats.Symlinks + stats.HardLinks} files, {TransferProgress.Size(stats.UncompressedBytes)} in {clock.Elapsed.TotalSeconds:0.00} s");
        return new RestoreResult(request.Key, key, exact, scope, opened.Info.Size, true, false, stats.Files + stats.Symlinks + stats.HardLinks, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Exact key first (it wins over any newer prefix match), then each restore key as a
    /// prefix, newest first; in the current scope, then each fallback scope in order.</summary>
    private async Task<(string Scope, string Key, ObjectInfo Entry)?> FindAsync(RestoreRequest request, string version, CancellationToken ct)
    {
        var scopes = new List<string> { request.Scope ?? CacheLayout.DefaultScope };
        foreach (var s in request.FallbackScopes) if (!scopes.Contains(s)) scopes.Add(s);
        foreach (var scope in scopes)
        {
            if (await store.HeadAsync(CacheLayout.Archive(scope, request.Key, version), ct) is { } exact)
                return (scope, request.Key, exact);
            foreach (var prefix in request.RestoreKeys)
            {
                ObjectInfo? newest = null;
                string? newestKey = null;
                await foreach (var o in store.ListAsync(CacheLayout.ScopePrefix(scope) + prefix, ct))
                {
                    if (CacheLayout.Parse(o.Key) is not { } parsed || parsed.Version != version) continue;
                    if (newest is null || o.LastModified > newest.LastModified) (newest, newestKey) = (o, parsed.Key);
                }
                if (newest is not null) return (scope, newestKey!, newest);
            }
        }
        return null;
    }

    private async Task<CacheManifest?> ReadManifestAsync(string scope, string key, string version, CancellationToken ct)
    {
        var opened = await store.OpenReadAsync(CacheLayout.Manifest(scope, key, version), null, ct);
        if (opened is null) return null;
        await using var content = opened.Value.Content;
        try
        {
            return await JsonSerializer.DeserializeAsync(content, S3PodJson.Default.CacheManifest, ct);
        }
        catch (JsonException)
        {
            reporter.Warn($"manifest of cache {key} is unreadable; restoring without its digest check");
            return null;
        }
    }

    /// <summary>A one-byte write per restore is the cheapest "last used" record S3 allows; prune reads it.</summary>
    private async Task TouchAsync(string scope, string key, string version, CancellationToken ct)
    {
        try
        {
            await store.PutAsync(CacheLayout.Used(scope, key, version), new MemoryStream([0x31]), new PutOptions { Length = 1 }, ct);
        }
        catch (S3PodException e)
        {
            reporter.Warn($"could not record the use of cache {key}: {e.Message}");
        }
    }

    public async Task<InspectResult> InspectAsync(string key, string? scope, CancellationToken ct)
    {
        var entries = new List<InspectEntry>();
        var used = await LastUsedAsync(ct);
        var scopes = scope is null ? null : CacheLayout.ScopePrefix(scope);
        await foreach (var o in store.ListAsync(scopes ?? CacheLayout.Root, ct))
        {
            if (CacheLayout.Parse(o.Key) is not { } p || p.Key != key) continue;
            var manifest = await ReadManifestAsync(p.Scope, p.Key, p.Version, ct);
            entries.Add(new InspectEntry(o.Key, p.Scope, p.Key, p.Version, o.Size, o.LastModified,
                used.TryGetValue(o.Key, out var u) && u > o.LastModified ? u : o.LastModified, manifest));
        }
        return new InspectResult(key, entries);
    }

    /// <summary>Evicts by last use (restore marks), oldest first: entries unused for longer than
    /// <paramref name="olderThan"/>, then more until the total is at most <paramref name="maxTotal"/>.</summary>
    public async Task<PruneResult> PruneAsync(string keyPrefix, TimeSpan? olderThan, long? maxTotal, bool dryRun, DateTimeOffset now, CancellationToken ct)
    {
        var used = await LastUsedAsync(ct);
        var all = new List<(PruneEntry Entry, string Object)>();
        await foreach (var o in store.ListAsync(CacheLayout.Root, ct))
        {
            if (CacheLayout.Parse(o.Key) is not { } p || !p.Key.StartsWith(keyPrefix, StringComparison.Ordinal)) continue;
            var lastUsed = used.TryGetValue(o.Key, out var u) && u > o.LastModified ? u : o.LastModified;
            all.Add((new PruneEntry(p.Scope, p.Key, p.Version, o.Size, lastUsed), o.Key));
        }
        all.Sort((a, b) => a.Entry.LastUsed.CompareTo(b.Entry.LastUsed));
        var doomed = new List<(PruneEntry Entry, string Object)>();
        long total = all.Sum(a => a.Entry.Size);
        foreach (var item in all)
        {
            bool tooOld = olderThan is { } age && now - item.Entry.LastUsed > age;
            bool overBudget = maxTotal is { } budget && total > budget;
            if (!tooOld && !overBudget) continue;
            doomed.Add(item);
            total -= item.Entry.Size;
        }
        foreach (var (entry, obj) in doomed)
        {
            reporter.Info($"{(dryRun ? "would delete" : "delete")} {entry.Scope}/{entry.Key} ({TransferProgress.Size(entry.Size)}, last used {entry.LastUsed:u})");
            if (dryRun) continue;
            // The archive goes first: once it is gone the entry is gone, whatever happens to the rest.
            await store.DeleteAsync(obj, ct);
            await store.DeleteAsync(CacheLayout.Manifest(entry.Scope, entry.Key, entry.Version), ct);
            await store.DeleteAsync(CacheLayout.Used(entry.Scope, entry.Key, entry.Version), ct);
        }
        return new PruneResult(dryRun, doomed.Select(d => d.Entry).ToList(), doomed.Sum(d => d.Entry.Size), all.Count - doomed.Count, total);
    }

    /// <summary>Archive object name → time of its last restore.</summary>
    private async Task<Dictionary<string, DateTimeOffset>> LastUsedAsync(CancellationToken ct)
    {
        var used = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await foreach (var o in store.ListAsync(CacheLayout.UsedRoot, ct))
            used[CacheLayout.Root + o.Key[CacheLayout.UsedRoot.Length..] + CacheLayout.ArchiveSuffix] = o.LastModified;
        return used;
    }
}
