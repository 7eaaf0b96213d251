using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Artifacts;

internal sealed partial class ArtifactService
{
    /// <summary>
    /// <c>rm</c>: refuses (exit 4, naming them) while aliases point at the version, unless
    /// <paramref name="force"/> removes them first; then writes the tombstone create-only (a second rm
    /// is a no-op). The record stays, so the number is never handed out again. Afterwards the aliases
    /// are read once more: an <c>alias set</c> racing this rm may have checked for the tombstone just
    /// before it landed; then the tombstone is taken back (without --force) and rm fails, so no alias
    /// is ever left pointing at a deleted version.
    /// </summary>
    public async Task<RemoveResult> RemoveVersionAsync(string name, string versionText, bool force, CancellationToken ct)
    {
        await _ledger.RequireWritableAsync(ct);
        var scheme = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var version = scheme.Parse(versionText, "version").Text;
        var listing = await _ledger.ListAsync(name, ct);
        if (!listing.Records.ContainsKey(version)) throw S3PodException.NotFound($"{name}:{version} does not exist");
        if (listing.Tombstones.ContainsKey(version))
        {
            _reporter.Info($"{name}:{version} was already deleted");
            return new RemoveResult(name, version, false, true, []);
        }
        var pointing = await AliasesPointingAtAsync(listing, [version], ct);
        if (pointing.Count > 0 && !force)
            throw S3PodException.Conflict($"{name}:{version} is what the alias(es) {string.Join(", ", pointing.Keys)} point at; move them first, or pass --force to remove them");
        var removed = await RemoveAliasesAsync(name, pointing.Keys, [version], ct);

        var key = ArtifactLayout.Tombstone(name, version);
        var tombstone = new TombstoneRecord(TombstoneRecord.CurrentSchema, version, _clock.GetUtcNow(), _options.Actor, "rm");
        if (await _ledger.CreateAsync(key, tombstone, ArtifactJson.Default.TombstoneRecord, ct) is not PutOutcome.Written written)
        {
            _reporter.Info($"{name}:{version} was deleted meanwhile by another writer");
            return new RemoveResult(name, version, false, true, removed);
        }
        var late = await AliasesPointingAtAsync(await _ledger.ListAsync(name, ct), [version], ct);
        if (late.Count > 0)
        {
            if (!force)
            {
                await _ledger.Store.DeleteAsync(key, ct, written.Object.ETag);
                throw S3PodException.Conflict($"the alias(es) {string.Join(", ", late.Keys)} of {name} moved to {version} while it was being deleted; it was not deleted");
            }
            removed.AddRange(await RemoveAliasesAsync(name, late.Keys, [version], ct));
        }
        _reporter.Info($"deleted {name}:{version}{(removed.Count > 0 ? $" and the alias(es) {string.Join(", ", removed)}" : "")}");
        return new RemoveResult(name, version, true, false, removed);
    }

    /// <summary>
    /// <c>purge</c>: tombstones the live versions that are both outside the newest
    /// <see cref="PurgeRequest.KeepLast"/> (in version order) and older than
    /// <see cref="PurgeRequest.OlderThan"/> (the record's time in the store). A version an alias
    /// points at is kept unless <see cref="PurgeRequest.IncludeAliased"/>, which removes those
    /// aliases first. The same handshake as <c>rm</c> guards against an alias set racing the purge.
    /// </summary>
    public async Task<PurgeResult> PurgeAsync(PurgeRequest request, CancellationToken ct)
    {
        var name = request.Name;
        if (request.KeepLast < 0) throw S3PodException.Usage($"--keep-last must be 0 or more, not {request.KeepLast}");
        if (!request.DryRun) await _ledger.RequireWritableAsync(ct);
        var scheme = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var listing = await _ledger.ListAsync(name, ct);
        var live = listing.Live(scheme);
        var cutoff = _clock.GetUtcNow() - request.OlderThan;
        var candidates = live.AsEnumerable().Reverse().Skip(request.KeepLast)
            .Where(v => listing.Records[v.Text].LastModified < cutoff).Select(v => v.Text).ToList();
        var pointing = await AliasesPointingAtAsync(listing, candidates, ct);
        var aliased = candidates.Where(v => pointing.Values.Any(targets => targets.Contains(v))).ToHashSet(StringComparer.Ordinal);
        var keptAliased = request.IncludeAliased ? new List<string>() : candidates.Where(aliased.Contains).ToList();
        var toDelete = candidates.Where(v => request.IncludeAliased || !aliased.Contains(v)).ToList();
        var aliasesToRemove = request.IncludeAliased ? pointing.Keys.ToList() : [];
        if (request.DryRun)
        {
            _reporter.Info($"purge {name} (dry run): would delete {Join(toDelete)}{(keptAliased.Count > 0 ? $"; keeps aliased {Join(keptAliased)}" : "")}");
            return new PurgeResult(name, true, toDelete, keptAliased, aliasesToRemove, live.Count);
        }

        var removedAliases = await RemoveAliasesAsync(name, aliasesToRemove, toDelete, ct);
        var written = new Dictionary<string, string?>(StringComparer.Ordinal);
        var deleted = new List<string>();
        foreach (var version in toDelete)
        {
            var tombstone = new TombstoneRecord(TombstoneRecord.CurrentSchema, version, _clock.GetUtcNow(), _options.Actor, "purge");
            if (await _ledger.CreateAsync(ArtifactLayout.Tombstone(name, version), tombstone, ArtifactJson.Default.TombstoneRecord, ct) is PutOutcome.Written w)
                written[version] = w.Object.ETag;
            deleted.Add(version);
        }
        if (written.Count > 0)
        {
            var late = await AliasesPointingAtAsync(await _ledger.ListAsync(name, ct), written.Keys, ct);
            if (request.IncludeAliased) removedAliases.AddRange(await RemoveAliasesAsync(name, late.Keys, written.Keys, ct));
            else
            {
                foreach (var version in written.Keys.Where(v => late.Values.Any(targets => targets.Contains(v))))
                {
                    await _ledger.Store.DeleteAsync(ArtifactLayout.Tombstone(name, version), ct, written[version]);
                    deleted.Remove(version);
                    keptAliased.Add(version);
                }
            }
        }
        _reporter.Info($"purged {name}: deleted {Join(deleted)}{(keptAliased.Count > 0 ? $"; kept aliased {Join(keptAliased)}" : "")}");
        return new PurgeResult(name, false, deleted, keptAliased, removedAliases, live.Count - deleted.Count);
    }

    private static string Join(IReadOnlyCollection<string> versions) => versions.Count == 0 ? "nothing" : string.Join(", ", versions);

    /// <summary>The live aliases whose primary or secondary is one of <paramref name="versions"/>, with the versions each points at.</summary>
    private async Task<Dictionary<string, HashSet<string>>> AliasesPointingAtAsync(ArtifactListing listing, IEnumerable<string> versions, CancellationToken ct)
    {
        var wanted = versions.ToHashSet(StringComparer.Ordinal);
        var result = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        if (wanted.Count == 0) return result;
        foreach (var (alias, listed) in listing.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (await _ledger.AliasAsync(listing.Name, alias, listed, ct) is not { Record: { Removed: false } record }) continue;
            var targets = new[] { record.Version, record.Secondary }.OfType<string>().Where(wanted.Contains).ToHashSet(StringComparer.Ordinal);
            if (targets.Count > 0) result[alias] = targets;
        }
        return result;
    }

    /// <summary>Removes each alias (compare-and-swap to a removed marker) as long as it still points at one of <paramref name="versions"/>.</summary>
    private async Task<List<string>> RemoveAliasesAsync(string name, IEnumerable<string> aliases, IEnumerable<string> versions, CancellationToken ct)
    {
        var doomed = versions.ToHashSet(StringComparer.Ordinal);
        var removed = new List<string>();
        foreach (var alias in aliases)
        {
            for (int attempt = 1; ; attempt++)
            {
                var current = await _ledger.AliasAsync(name, alias, null, ct);
                if (current is not { Record: { Removed: false } record, ETag: var etag } || !(doomed.Contains(record.Version!) || (record.Secondary is { } s && doomed.Contains(s))))
                    break;
                if (await _ledger.ReplaceAsync(ArtifactLayout.Alias(name, alias), Removed(alias, record.Version), ArtifactJson.Default.AliasRecord, etag, ct) is PutOutcome.Written)
                {
                    removed.Add(alias);
                    break;
                }
                if (attempt >= MaxAttempts) throw S3PodException.Conflict($"alias {alias} of {name} kept changing under {MaxAttempts} attempts to remove it");
                await Jitter(attempt, ct);
            }
        }
        return removed;
    }

    /// <summary>
    /// <c>gc</c>: deletes blobs that no live version, no head and no tombstone younger than the grace
    /// period points at, and that are themselves older than the grace period (an rm leaves the content
    /// for the grace period). Pushes in flight are protected whatever the grace by
    /// <see cref="CollectionGuard"/>: gc puts its marker, and while any push, stage or publish has a
    /// live intent it deletes nothing (deferred); references are listed only after that check, so a
    /// push that finished before it is seen by its record, and a push that starts later waits for gc's
    /// marker before it relies on a blob. Version records are immutable and cached locally, so a
    /// repeated gc reads only the new ones.
    /// </summary>
    public async Task<GcResult> GcAsync(TimeSpan grace, bool dryRun, CancellationToken ct)
    {
        CollectorRun? run = null;
        try
        {
            int deferred = 0;
            if (!dryRun)
            {
                run = await new CollectionGuard(Store, _clock, _options.Actor, _options.Guard).BeginCollectAsync(ct);
                deferred = await run.WritersInFlightAsync(BlobNamespace, ct);
                if (deferred > 0)
                {
                    _reporter.Info($"gc: {deferred} write(s) in flight; unreferenced blobs are not collected now (run gc again when they are done)");
                    return new GcResult(dryRun, [], 0, 0, 0, deferred, 0);
                }
            }
            var cutoff = _clock.GetUtcNow() - grace;
            var referenced = await ReferencedBlobsAsync(cutoff, ct);
            var candidates = new List<ObjectInfo>();
            int young = 0;
            await foreach (var o in Store.ListAsync(ArtifactLayout.BlobsRoot, ct))
            {
                if (referenced.Contains(o.Key[ArtifactLayout.BlobsRoot.Length..])) continue;
                if (o.LastModified > cutoff) young++;
                else candidates.Add(o);
            }
            int left = 0;
            if (candidates.Count > 0 && !dryRun)
            {
                var again = await ReferencedBlobsAsync(cutoff, ct);
                candidates.RemoveAll(o => again.Contains(o.Key[ArtifactLayout.BlobsRoot.Length..]));
                var deleted = new List<ObjectInfo>();
                foreach (var o in candidates)
                {
                    // Past half the marker's lifetime a waiting push may take this gc for dead.
                    if (!run!.MayDelete) break;
                    await Store.DeleteAsync(o.Key, ct);
                    deleted.Add(o);
                }
                left = candidates.Count - deleted.Count;
                candidates = deleted;
            }
            long freed = candidates.Sum(o => o.Size);
            _reporter.Info($"gc{(dryRun ? " (dry run)" : "")}: {(dryRun ? "would delete" : "deleted")} {candidates.Count} unreferenced blob(s), {TransferProgress.Size(freed)}; {referenced.Count} referenced, {young} unreferenced but younger than {Config.Values.Describe(grace)}"
                + (left > 0 ? $"; {left} left for the next gc (this run reached its time limit)" : ""));
            return new GcResult(dryRun, candidates.Select(o => new GcEntry(o.Key, o.Size, o.LastModified)).ToList(), freed, referenced.Count, young, 0, left);
        }
        finally
        {
            if (run is not null) await run.DisposeAsync();
        }
    }

    private async Task<HashSet<string>> ReferencedBlobsAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        var byName = new Dictionary<string, List<ObjectInfo>>(StringComparer.Ordinal);
        await foreach (var o in Store.ListAsync(ArtifactLayout.ArtifactsRoot, ct))
        {
            if (ArtifactLayout.NameOf(o.Key) is not { } name) continue;
            if (!byName.TryGetValue(name, out var list)) byName[name] = list = [];
            list.Add(o);
        }
        var blobs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, objects) in byName)
        {
            var listing = ArtifactLayout.Parse(name, objects);
            foreach (var version in listing.Records.Keys)
            {
                if (listing.Tombstones.TryGetValue(version, out var tombstone) && tombstone.LastModified < cutoff) continue;
                if (await _ledger.VersionAsync(name, version, ct) is { } record) blobs.Add(record.Blob);
            }
            if (listing.Head is not null && await _ledger.HeadAsync(name, listing.Head, ct) is { } head) blobs.Add(head.Record.Blob);
        }
        return blobs;
    }
}
