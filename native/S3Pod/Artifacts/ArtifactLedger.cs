using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Artifacts;

/// <summary>
/// The artifact ledger's access to the store: listings (the truth about which versions exist),
/// record reads through the local <see cref="RecordCache"/>, and the two kinds of ledger write,
/// create-only and compare-and-swap. The store is opened on first use, so a read answered from the
/// local caches never builds an S3 client.
/// </summary>
internal sealed class ArtifactLedger(Func<IObjectStore> openStore, RecordCache cache, Reporter reporter, bool assumeSingleWriter)
{
    private IObjectStore? _store;
    // Null until a write checked the server; true where conditions are enforced (or assumed to be,
    // for write-only pushers, which cannot probe).
    private bool? _enforced;

    public IObjectStore Store => _store ??= openStore();

    public RecordCache Cache => cache;

    /// <summary>
    /// Every ledger write depends on the server enforcing create-only and compare-and-swap (probed,
    /// remembered). Where it does not, writes are refused unless the user vouches for a single
    /// writer; then create-only and compare-and-swap become check-then-put.
    /// </summary>
    public async Task RequireWritableAsync(CancellationToken ct)
    {
        if (_enforced is not null) return;
        var capabilities = await Store.GetCapabilitiesAsync(ct);
        _enforced = capabilities.SupportsLedger;
        if (capabilities.SupportsLedger) return;
        // Before refusing, probe afresh: the remembered answer may be a day old, and credentials that
        // may not read (write-only pushers) fail the probe itself, which is then the error to report.
        if (!assumeSingleWriter)
        {
            try
            {
                if ((await Store.GetCapabilitiesAsync(ct, refresh: true)).SupportsLedger)
                {
                    _enforced = true;
                    return;
                }
            }
            catch (StorageException e) when (e.Failure == StorageFailure.AccessDenied)
            {
                throw S3PodException.Operational($"{Store.Location}: cannot check that the server enforces conditional writes ({e.Message}); credentials that may only write can use `artifact push --write-only --scheme date`", e);
            }
        }
        if (!assumeSingleWriter)
            throw S3PodException.Operational(
                $"{Store.Location}: the server does not enforce conditional writes (If-None-Match/If-Match), which artifact writes need to stay correct with concurrent writers; run one writer at a time and pass --assume-single-writer (or assume_single_writer = true)");
        reporter.Warn($"{Store.Location}: the server does not enforce conditional writes; relying on assume_single_writer (one writer at a time)");
    }

    /// <summary>For write-only pushers: send the conditions without probing (a probe needs reads).</summary>
    public void AssumeEnforced() => _enforced = true;

    /// <summary>One LIST of everything the artifact has: aliases, head and versions (3 requests for 2,000 versions).</summary>
    public Task<ArtifactListing> ListAsync(string name, CancellationToken ct) => ListPrefixAsync(name, ArtifactLayout.ArtifactPrefix(name), ct);

    /// <summary>One LIST of the version records and tombstones only: what latest and the next version need (2 requests for 2,000 versions).</summary>
    public Task<ArtifactListing> ListVersionsAsync(string name, CancellationToken ct) => ListPrefixAsync(name, ArtifactLayout.ArtifactPrefix(name) + "versions/", ct);

    private async Task<ArtifactListing> ListPrefixAsync(string name, string prefix, CancellationToken ct)
    {
        var objects = new List<ObjectInfo>();
        await foreach (var o in Store.ListAsync(prefix, ct)) objects.Add(o);
        return ArtifactLayout.Parse(name, objects);
    }

    /// <summary>The record and tombstone of one version, in one small LIST (<c>_versions/&lt;v&gt;.</c>).</summary>
    public Task<ArtifactListing> ListOneVersionAsync(string name, string version, CancellationToken ct) =>
        ListPrefixAsync(name, ArtifactLayout.Version(name, version)[..^"json".Length], ct);

    /// <summary>
    /// The artifact's scheme: from the local copy of <c>_artifact.json</c>, else from the store; for an
    /// artifact that only write-only pushers wrote (no <c>_artifact.json</c>), from its first version
    /// record. Null when the artifact does not exist.
    /// </summary>
    public async Task<VersionScheme?> SchemeAsync(string name, CancellationToken ct)
    {
        if (cache.GetArtifact(name) is { } cached) return VersionScheme.Parse(cached.Scheme);
        if (await ReadAsync(ArtifactLayout.ArtifactRecord(name), ArtifactJson.Default.ArtifactRecord, ct) is { } found)
        {
            if (found.Record.Name != name) throw Mismatch(found.Info.Key, $"names the artifact {found.Record.Name}");
            var scheme = ParseStoredScheme(found.Record.Scheme, found.Info.Key);
            cache.PutArtifact(found.Record);
            return scheme;
        }
        await foreach (var o in Store.ListAsync(ArtifactLayout.ArtifactPrefix(name) + "versions/", ct))
        {
            if (ArtifactLayout.Parse(name, [o]).Records.Count == 0) continue;
            var record = await ReadAsync(o.Key, ArtifactJson.Default.VersionRecord, ct);
            if (record is not null) return ParseStoredScheme(record.Value.Record.Scheme, o.Key);
        }
        return null;
    }

    private VersionScheme ParseStoredScheme(string scheme, string key)
    {
        try
        {
            return VersionScheme.Parse(scheme);
        }
        catch (S3PodException)
        {
            throw Mismatch(key, $"has the unknown scheme '{scheme}' (written by a newer s3pod?)");
        }
    }

    /// <summary>A version record: the local copy (immutable, so always good), else the store's. Null when absent.</summary>
    public async Task<VersionRecord?> VersionAsync(string name, string version, CancellationToken ct)
    {
        if (cache.GetVersion(name, version) is { } cached && cached.Name == name && cached.Version == version) return cached;
        var found = await ReadAsync(ArtifactLayout.Version(name, version), ArtifactJson.Default.VersionRecord, ct);
        if (found is not { } f) return null;
        if (f.Record.Name != name || f.Record.Version != version)
            throw Mismatch(f.Info.Key, $"describes {f.Record.Name}:{f.Record.Version}");
        cache.PutVersion(f.Record);
        return f.Record;
    }

    /// <summary>An alias and the ETag it was read with. <paramref name="listed"/> (from a listing) lets a
    /// local copy with the same ETag answer; without it the store is asked. Null when absent.</summary>
    public async Task<(AliasRecord Record, string ETag)?> AliasAsync(string name, string alias, ObjectInfo? listed, CancellationToken ct)
    {
        if (listed?.ETag is { } etag && cache.GetAlias(name, alias, etag) is { } cached) return (cached, etag);
        var found = await ReadAsync(ArtifactLayout.Alias(name, alias), ArtifactJson.Default.AliasRecord, ct);
        if (found is not { } f) return null;
        if (f.Record.Alias != alias) throw Mismatch(f.Info.Key, $"describes the alias {f.Record.Alias}");
        var readETag = f.Info.ETag ?? throw Mismatch(f.Info.Key, "has no ETag");
        cache.PutAlias(name, readETag, f.Record);
        return (f.Record, readETag);
    }

    /// <summary>The staging head and its ETag (as <see cref="AliasAsync"/>). Null when nothing was staged.</summary>
    public async Task<(HeadRecord Record, string ETag)?> HeadAsync(string name, ObjectInfo? listed, CancellationToken ct)
    {
        if (listed?.ETag is { } etag && cache.GetHead(name, etag) is { } cached) return (cached, etag);
        var found = await ReadAsync(ArtifactLayout.Head(name), ArtifactJson.Default.HeadRecord, ct);
        if (found is not { } f) return null;
        var readETag = f.Info.ETag ?? throw Mismatch(f.Info.Key, "has no ETag");
        cache.PutHead(name, readETag, f.Record);
        return (f.Record, readETag);
    }

    /// <summary>Reads and parses one JSON record; the ETag comes from the same read as the content.</summary>
    public async Task<(T Record, ObjectInfo Info)?> ReadAsync<T>(string key, JsonTypeInfo<T> type, CancellationToken ct) where T : class
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await ReadOnceAsync(key, type, ct);
            }
            catch (StorageException e) when (e.Failure == StorageFailure.Changed && attempt < 10)
            {
                // A mutable record (alias, head) was replaced between looking it up and reading it: read the new one.
            }
        }
    }

    private async Task<(T Record, ObjectInfo Info)?> ReadOnceAsync<T>(string key, JsonTypeInfo<T> type, CancellationToken ct) where T : class
    {
        await using var reader = await Store.OpenReadAsync(key, ReadOptions.Default, ct);
        if (reader is null) return null;
        if (reader.Info.Size > 1 << 20) throw Mismatch(key, $"is {reader.Info.Size} bytes, too large for a record");
        var body = new MemoryStream();
        await reader.Content.CopyToAsync(body, ct);
        try
        {
            return (JsonSerializer.Deserialize(body.GetBuffer().AsSpan(0, (int)body.Length), type) ?? throw new JsonException("null"), reader.Info);
        }
        catch (JsonException e)
        {
            throw Mismatch(key, $"is not a valid record ({e.Message.ReplaceLineEndings(" ")})");
        }
    }

    private S3PodException Mismatch(string key, string what) =>
        S3PodException.Integrity($"{Store.Location}{key} {what}; the ledger was changed by hand or by another tool");

    /// <summary>Create-only. <see cref="PutOutcome.PreconditionFailed"/> means the key is taken.</summary>
    public async Task<PutOutcome> CreateAsync<T>(string key, T record, JsonTypeInfo<T> type, CancellationToken ct)
    {
        if (_enforced == false && await Store.HeadAsync(key, ct) is { } existing) return new PutOutcome.PreconditionFailed(existing);
        return await PutAsync(key, record, type, WriteCondition.IfAbsent, ct);
    }

    /// <summary>Compare-and-swap against <paramref name="etag"/> (null: create-only).</summary>
    public async Task<PutOutcome> ReplaceAsync<T>(string key, T record, JsonTypeInfo<T> type, string? etag, CancellationToken ct)
    {
        if (etag is null) return await CreateAsync(key, record, type, ct);
        if (_enforced == false && await Store.HeadAsync(key, ct) is var current && current?.ETag?.Trim('"') != etag.Trim('"'))
            return new PutOutcome.PreconditionFailed(current);
        return await PutAsync(key, record, type, WriteCondition.IfMatch(etag), ct);
    }

    private Task<PutOutcome> PutAsync<T>(string key, T record, JsonTypeInfo<T> type, WriteCondition condition, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(record, type);
        return Store.PutAsync(key, new MemoryStream(body), new PutOptions { Condition = condition, Length = body.Length, ContentType = "application/json" }, ct);
    }
}
