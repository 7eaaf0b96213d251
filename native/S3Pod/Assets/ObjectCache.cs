using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using S3Pod.Files;
using S3Pod.Local;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Assets;

/// <summary>How one fetch treats a cached copy.</summary>
/// <param name="Ttl">Age after which the copy is revalidated (one HEAD); zero: every time.</param>
/// <param name="Strict">Fail instead of serving a stale copy when the store cannot be reached.</param>
/// <param name="Revalidate">Check now, whatever the age (immutable locations included).</param>
internal sealed record FetchOptions(TimeSpan Ttl, bool Strict = false, bool Revalidate = false);

/// <summary>What a fetch produced: the local file and how it got there.</summary>
/// <param name="Action">hit (no request), revalidated (HEAD: unchanged), download, stale (store unreachable, old copy served).</param>
internal sealed record ObjectFetch(S3Uri Uri, string Path, string Action, CachedObjectRecord Record);

/// <summary>One entry of <c>asset cache ls</c>.</summary>
internal sealed record CachedObject(CachedObjectRecord Record, string Path, TimeSpan Age, bool Outdated, bool Immutable);

/// <summary>
/// Local copies of any <c>s3://bucket/key</c> under
/// <c>&lt;cache_dir&gt;/objects/&lt;bucket&gt;/&lt;key&gt;</c>. A copy younger than the TTL, or in an
/// immutable location, is used with no request at all; an older one is revalidated with one HEAD
/// against the ETag stored when it was downloaded (unchanged: the check time is touched; changed: one
/// download). When the store cannot be reached (or no credentials work) a stale copy is served with a
/// warning; with nothing cached it is an offline failure and the URI is remembered in the missing list.
/// Network work on one object happens under a lock per object, so processes asking at once download
/// it once; content is written beside its path and renamed into place after its length and digest
/// were checked, so nothing half-written is ever at the path.
/// </summary>
internal sealed class ObjectCache(string cacheDir, AssetSettings settings, BucketStores stores, TimeProvider clock, Reporter reporter)
{
    public string Root { get; } = Path.Combine(cacheDir, "objects");

    /// <summary>How long a check may take where a local copy could serve instead (revalidate_timeout).</summary>
    public TimeSpan RevalidateTimeout => settings.RevalidateTimeout;
    private string MetaDir => Path.Combine(Root, ".meta");
    private string LockDir => Path.Combine(Root, ".locks");
    private string MissingPath => Path.Combine(Root, ".missing.json");

    /// <summary>Where the copy of <paramref name="uri"/> lives (whether or not it is there).</summary>
    public string ContentPath(S3Uri uri) => Path.Combine(Root, uri.Bucket, LocalKeyPath(uri.Key, Path.DirectorySeparatorChar));

    private string RecordPath(S3Uri uri) => Path.Combine(MetaDir, Digest(uri.ToString()) + ".json");

    /// <summary>The cached copy when its record and its content (of the recorded size) are both there; no network.</summary>
    public CachedObjectRecord? Lookup(S3Uri uri)
    {
        var record = AtomicFile.TryReadJson(RecordPath(uri), AssetJson.Default.CachedObjectRecord);
        if (record is null || record.Uri != uri.ToString()) return null;
        var file = new FileInfo(ContentPath(uri));
        return file.Exists && file.Length == record.Size ? record : null;
    }

    private bool NeedsCheck(S3Uri uri, CachedObjectRecord record, FetchOptions options)
    {
        if (options.Revalidate) return true;
        if (settings.IsImmutable(uri)) return false;
        var age = clock.GetUtcNow() - record.Checked;
        // A check time in the future (a clock that moved back) is not trusted.
        return age < TimeSpan.Zero || age >= options.Ttl;
    }

    public async Task<ObjectFetch> FetchAsync(S3Uri uri, FetchOptions options, CancellationToken ct)
    {
        var cached = Lookup(uri);
        if (cached is not null && !NeedsCheck(uri, cached, options)) return new ObjectFetch(uri, ContentPath(uri), "hit", cached);

        var asked = clock.GetUtcNow();
        using var held = await FileLock.AcquireAsync(FileLock.PathFor(LockDir, uri.ToString()), uri.ToString(), ct);
        // Another process may have downloaded or checked it while this one waited for the lock: a
        // check made after this fetch was asked for is as good as one of its own.
        cached = Lookup(uri);
        if (cached is not null && (cached.Checked > asked || !NeedsCheck(uri, cached, options)))
            return new ObjectFetch(uri, ContentPath(uri), "hit", cached);
        RemovePartials(uri);

        try
        {
            var store = stores.For(uri.Bucket);
            if (cached is not null)
            {
                // The copy can answer: a silent store gets revalidate_timeout, not the operation's budget.
                var head = await NetworkPolicy.RevalidateAsync(settings.RevalidateTimeout, uri.ToString(), token => store.HeadAsync(uri.Key, token), ct);
                if (head is null)
                {
                    RemoveEntry(uri);
                    throw S3PodException.NotFound($"{uri} no longer exists; its cached copy was removed");
                }
                if (SameETag(head.ETag, cached.ETag))
                {
                    var touched = cached with { Checked = clock.GetUtcNow() };
                    TryWriteRecord(uri, touched);
                    return new ObjectFetch(uri, ContentPath(uri), "revalidated", touched);
                }
                reporter.Info($"{uri} changed (ETag {cached.ETag} -> {head.ETag}); downloading it again");
            }
            var record = await DownloadAsync(store, uri, ct);
            ForgetMissing(uri);
            return new ObjectFetch(uri, ContentPath(uri), "download", record);
        }
        catch (StorageException e) when (cached is not null && StoreUnavailable(e))
        {
            var age = AssetText.LastChecked(cached.Checked, clock.GetUtcNow());
            var cause = WithoutUri(uri, e.Message);
            if (options.Strict)
                throw S3PodException.Offline($"{uri}: {cause}; not serving the copy {age} (--strict)", e);
            reporter.Warn($"{uri}: {cause}; serving the copy {age} (it may be outdated)");
            return new ObjectFetch(uri, ContentPath(uri), "stale", cached);
        }
        catch (StorageException e) when (Offline(e))
        {
            RememberMissing(uri);
            throw S3PodException.Offline($"{uri} is not cached and cannot be fetched: {e.Message}", e);
        }
    }

    /// <summary>A store message already names the object ("s3://b/k: …"): said once is enough.</summary>
    private static string WithoutUri(S3Uri uri, string message) =>
        message.StartsWith(uri + ": ", StringComparison.Ordinal) ? message[(uri.ToString().Length + 2)..] : message;

    /// <summary>The store cannot be used right now (not: it refused this request), so a cached copy is the best answer.</summary>
    private static bool StoreUnavailable(StorageException e) =>
        Offline(e) || e.Failure is StorageFailure.Server or StorageFailure.Throttled;

    /// <summary>Offline in the contract's sense (exit 6): no connection, no answer in time, or no usable credentials.</summary>
    private static bool Offline(StorageException e) => e.IsUnreachable || e.Failure == StorageFailure.Credentials;

    private static bool SameETag(string? a, string? b) =>
        a is not null && b is not null && a.Trim('"').Equals(b.Trim('"'), StringComparison.Ordinal);

    private async Task<CachedObjectRecord> DownloadAsync(IObjectStore store, S3Uri uri, CancellationToken ct)
    {
        var path = ContentPath(uri);
        CheckPlaceIsFree(uri, path);
        var clockTime = Stopwatch.StartNew();
        await using var opened = await store.OpenReadAsync(uri.Key, ReadOptions.Default, ct)
            ?? throw S3PodException.NotFound($"{uri}: no such object");
        var info = opened.Info;
        using var progress = reporter.Progress($"download {uri}", info.Size);
        await using var content = new Streams.ProgressStream(opened.Content, progress.Report);
        var sha256 = await LocalFiles.WriteVerifiedAsync(content, path, ct, (hash, size) =>
        {
            if (size != info.Size)
                throw S3PodException.Integrity($"{uri}: got {size} bytes, the store announced {info.Size}; nothing was cached");
            if (info.Sha256 is { } recorded && !recorded.Equals(hash, StringComparison.OrdinalIgnoreCase))
                throw S3PodException.Integrity($"{uri}: sha256 {hash} does not match the {recorded} s3pod recorded when it stored the object; nothing was cached");
            // The old copy's record goes before its content is replaced: an interruption between the
            // two leaves an entry without a record, which is simply not cached.
            DeleteRecord(uri);
        });
        var now = clock.GetUtcNow();
        var record = new CachedObjectRecord(CachedObjectRecord.CurrentSchema, uri.ToString(), RelativePath(path), info.ETag, info.Size, sha256, info.LastModified, now, now);
        AtomicFile.WriteJson(RecordPath(uri), record, AssetJson.Default.CachedObjectRecord);
        reporter.Info($"cached {uri} ({TransferProgress.Size(info.Size)} in {clockTime.Elapsed.TotalSeconds:0.00} s)");
        return record;
    }

    /// <summary>
    /// S3 keys form no tree: <c>a</c> and <c>a/b</c> may both be objects, but a local path cannot be
    /// a file and a directory at once. Say so plainly instead of failing with an I/O error.
    /// </summary>
    private void CheckPlaceIsFree(S3Uri uri, string path)
    {
        if (Directory.Exists(path))
            throw S3PodException.Operational($"cannot cache {uri}: {path} is a directory holding cached objects under {uri}/ (remove them with `s3pod asset cache rm`)");
        var bucketDir = Path.Combine(Root, uri.Bucket);
        for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length > bucketDir.Length; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(dir))
                throw S3PodException.Operational($"cannot cache {uri}: the cached object at {dir} is in the way (an object whose key is a prefix of this one; remove it with `s3pod asset cache rm`)");
        }
    }

    /// <summary>Temp files of downloads that were killed: safe to delete while this object's lock is held.</summary>
    private void RemovePartials(S3Uri uri)
    {
        var path = ContentPath(uri);
        var dir = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(dir)) return;
        foreach (var partial in Directory.EnumerateFiles(dir, $".{Path.GetFileName(path)}.s3pod-*"))
        {
            try { File.Delete(partial); } catch (IOException) { /* next time */ }
        }
    }

    private void TryWriteRecord(S3Uri uri, CachedObjectRecord record)
    {
        try
        {
            AtomicFile.WriteJson(RecordPath(uri), record, AssetJson.Default.CachedObjectRecord);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only cache still serves; it only asks the store again next time.
            reporter.Warn($"could not record the check of {uri}: {e.Message}");
        }
    }

    private void DeleteRecord(S3Uri uri) => DeleteFile(RecordPath(uri));

    private void RemoveEntry(S3Uri uri)
    {
        DeleteRecord(uri);
        DeleteFile(ContentPath(uri));
    }

    private static void DeleteFile(string path)
    {
        if (File.Exists(path)) File.Delete(path);
    }

    public IReadOnlyList<CachedObject> List()
    {
        var entries = new List<CachedObject>();
        if (!Directory.Exists(MetaDir)) return entries;
        var now = clock.GetUtcNow();
        foreach (var file in Directory.EnumerateFiles(MetaDir, "*.json"))
        {
            if (AtomicFile.TryReadJson(file, AssetJson.Default.CachedObjectRecord) is not { } record) continue;
            S3Uri uri;
            try { uri = S3Uri.Parse(record.Uri); }
            catch (S3PodException) { continue; }
            if (Lookup(uri) is null) continue;
            var immutable = settings.IsImmutable(uri);
            var age = now - record.Checked;
            entries.Add(new CachedObject(record, ContentPath(uri), now - record.Downloaded, !immutable && (age < TimeSpan.Zero || age >= settings.Ttl), immutable));
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Record.Uri, b.Record.Uri));
        return entries;
    }

    /// <summary>Deletes the copy (under its lock, so never under a download); false when it was not cached.</summary>
    public async Task<bool> RemoveAsync(S3Uri uri, CancellationToken ct)
    {
        using var held = await FileLock.AcquireAsync(FileLock.PathFor(LockDir, uri.ToString()), uri.ToString(), ct);
        bool present = File.Exists(RecordPath(uri)) || File.Exists(ContentPath(uri));
        RemoveEntry(uri);
        RemovePartials(uri);
        PruneEmptyDirectories(Path.GetDirectoryName(ContentPath(uri))!);
        return present;
    }

    private void PruneEmptyDirectories(string dir)
    {
        var stop = Root.TrimEnd(Path.DirectorySeparatorChar);
        for (var d = dir; d is not null && d.Length > stop.Length; d = Path.GetDirectoryName(d))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(d).Any()) return;
                Directory.Delete(d);
            }
            catch (IOException) { return; }
        }
    }

    /// <summary>Marks copies as due for revalidation (the next fetch HEADs them); null: every copy. Returns how many.</summary>
    public async Task<int> InvalidateAsync(S3Uri? only, CancellationToken ct)
    {
        var targets = only is null ? List().Select(e => S3Uri.Parse(e.Record.Uri)).ToList() : [only];
        int count = 0;
        foreach (var uri in targets)
        {
            using var held = await FileLock.AcquireAsync(FileLock.PathFor(LockDir, uri.ToString()), uri.ToString(), ct);
            if (Lookup(uri) is not { } record) continue;
            AtomicFile.WriteJson(RecordPath(uri), record with { Checked = DateTimeOffset.UnixEpoch }, AssetJson.Default.CachedObjectRecord);
            count++;
        }
        return count;
    }

    /// <summary>The paths of a cached object's content and record relative to the <c>objects</c>
    /// directory, '/'-separated: a bundle holds them under <c>objects/</c>, mirroring the cache.</summary>
    public (string Content, string Record) RelativePaths(S3Uri uri) =>
        ($"{uri.Bucket}/{LocalKeyPath(uri.Key, '/')}", $".meta/{Digest(uri.ToString())}.json");

    /// <summary>
    /// Puts a copy that came from elsewhere (an unpacked bundle) into the cache, replacing what is
    /// there: verified against its record's size and sha256 first, then committed as a download is
    /// (record out, content renamed in, record in), under the object's lock.
    /// </summary>
    public async Task ImportAsync(S3Uri uri, string stagedContent, CachedObjectRecord record, CancellationToken ct)
    {
        var file = new FileInfo(stagedContent);
        if (!file.Exists || file.Length != record.Size)
            throw S3PodException.Integrity($"bundle entry for {uri}: expected {record.Size} bytes, found {(file.Exists ? file.Length : 0)}");
        string sha256;
        await using (var stream = file.OpenRead()) sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        if (sha256 != record.Sha256)
            throw S3PodException.Integrity($"bundle entry for {uri}: sha256 {sha256} does not match its record ({record.Sha256})");

        using var held = await FileLock.AcquireAsync(FileLock.PathFor(LockDir, uri.ToString()), uri.ToString(), ct);
        var path = ContentPath(uri);
        CheckPlaceIsFree(uri, path);
        DeleteRecord(uri);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Move(stagedContent, path, overwrite: true);
        AtomicFile.WriteJson(RecordPath(uri), record with { Path = RelativePath(path) }, AssetJson.Default.CachedObjectRecord);
        ForgetMissing(uri);
    }

    public IReadOnlyList<string> Missing() =>
        AtomicFile.TryReadJson(MissingPath, AssetJson.Default.MissingObjectsRecord)?.Uris ?? [];

    private void RememberMissing(S3Uri uri) => UpdateMissing(uris => uris.Add(uri.ToString()));

    private void ForgetMissing(S3Uri uri)
    {
        if (File.Exists(MissingPath)) UpdateMissing(uris => uris.Remove(uri.ToString()));
    }

    private void UpdateMissing(Func<SortedSet<string>, bool> change)
    {
        try
        {
            // Short and local: a plain lock file, waited for briefly.
            using var held = FileLock.AcquireAsync(Path.Combine(LockDir, "missing.lock"), "the missing list", CancellationToken.None, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            var uris = new SortedSet<string>(Missing(), StringComparer.Ordinal);
            if (change(uris))
                AtomicFile.WriteJson(MissingPath, new MissingObjectsRecord(MissingObjectsRecord.CurrentSchema, uris.ToList()), AssetJson.Default.MissingObjectsRecord);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or S3PodException)
        {
            reporter.Warn($"could not update the missing list {MissingPath}: {e.Message}");
        }
    }

    private string RelativePath(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..40];

    /// <summary>
    /// An S3 key as a relative path, one directory per '/'-segment. Segments no file system can hold
    /// are escaped, injectively: '%' and characters some OS forbids in names become %XX, and empty,
    /// "." and ".." segments become "%", "%2E" and "%2E%2E" (a lone '%' is never produced otherwise).
    /// The same on every OS, so a bundle packed on Linux unpacks on Windows.
    /// </summary>
    internal static string LocalKeyPath(string key, char separator) =>
        string.Join(separator, key.Split('/').Select(EscapeSegment));

    private static string EscapeSegment(string segment)
    {
        if (segment.Length == 0) return "%";
        if (segment == ".") return "%2E";
        if (segment == "..") return "%2E%2E";
        var sb = new StringBuilder(segment.Length);
        foreach (var c in segment)
        {
            if (c == '%' || c < ' ' || c == '\u007f' || c is '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|') sb.Append('%').Append(((int)c).ToString("X2"));
            else sb.Append(c);
        }
        return sb.ToString();
    }
}

/// <summary>One store per bucket named by an <c>s3://</c> URI, opened on first use (no S3 client at all
/// when every answer comes from the local cache) and shared by parallel fetches.</summary>
internal sealed class BucketStores(Func<string, IObjectStore> open) : IAsyncDisposable
{
    private readonly Dictionary<string, IObjectStore> _open = new(StringComparer.Ordinal);

    public IObjectStore For(string bucket)
    {
        lock (_open)
        {
            if (!_open.TryGetValue(bucket, out var store)) _open[bucket] = store = open(bucket);
            return store;
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<IObjectStore> stores;
        lock (_open) stores = _open.Values.ToList();
        foreach (var s in stores) await s.DisposeAsync();
    }
}

/// <summary>How asset messages write quantities.</summary>
internal static class AssetText
{
    public static string Age(TimeSpan age) => age.TotalSeconds switch
    {
        < 0 => "in the future",
        < 90 => $"{age.TotalSeconds:0} s",
        < 5400 => $"{age.TotalMinutes:0} min",
        < 172800 => $"{age.TotalHours:0.#} h",
        _ => $"{age.TotalDays:0.#} d",
    };

    /// <summary>"last checked 3 h ago"; a copy marked for revalidation (`asset cache invalidate`: the
    /// epoch) was never checked since.</summary>
    public static string LastChecked(DateTimeOffset checkedAt, DateTimeOffset now) =>
        checkedAt <= DateTimeOffset.UnixEpoch ? "marked for revalidation (not checked since)" : $"last checked {Age(now - checkedAt)} ago";
}
