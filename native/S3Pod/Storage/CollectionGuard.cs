using System.Security.Cryptography;
using System.Text.Json;

namespace S3Pod.Storage;

/// <summary>How long the marks of <see cref="CollectionGuard"/> live.</summary>
/// <param name="IntentTtl">An intent older than this (by the store's clock) belongs to a writer that died.</param>
/// <param name="IntentRefresh">How often a long write rewrites its intent; well under <paramref name="IntentTtl"/>.</param>
/// <param name="MarkerTtl">A collector marker older than this is dead; the collector itself stops deleting at half of it.</param>
/// <param name="Poll">How often a writer looks again while a collector runs.</param>
internal sealed record CollectionGuardOptions(TimeSpan IntentTtl, TimeSpan IntentRefresh, TimeSpan MarkerTtl, TimeSpan Poll)
{
    public static readonly CollectionGuardOptions Default = new(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1));
}

/// <summary>The body of an intent or a marker: for people looking at the bucket; the protocol only reads keys and times.</summary>
internal sealed record CollectionMark(int Schema, string Role, string? Namespace, DateTimeOffset Created, string Actor)
{
    public const int CurrentSchema = 1;
}

/// <summary>
/// Keeps a collector (something that deletes objects nothing references, after listing the
/// references) from deleting content a writer is about to reference. Writers of a namespace
/// (a string naming one kind of collectable content) put an intent before they upload or rely on
/// existing content and remove it after their commit point; a collector puts a marker, and deletes
/// nothing of a namespace while a live intent of it exists. A writer that finds a live marker after
/// putting its intent waits until the marker is gone or dead. Either the collector's listing of
/// intents comes after a writer's intent (then it defers, or sees the writer's committed reference),
/// or the writer's listing of markers comes after the collector's marker (then the writer waits until
/// the collector stopped deleting). Ages compare store timestamps with each other (the server's
/// clock), and a collector stops deleting once its own marker is half its lifetime old by the local
/// monotonic clock, so a writer that declares an older marker dead is never wrong. Needs only
/// list-after-write consistency: no conditional writes.
/// <code>
/// _gc/intents/&lt;namespace&gt;/&lt;id&gt;.json   one writer in flight (the namespace in the key: no read per intent)
/// _gc/running/&lt;id&gt;.json              one collector running
/// </code>
/// </summary>
internal sealed class CollectionGuard(IObjectStore store, TimeProvider clock, string actor, CollectionGuardOptions? options = null)
{
    public const string Root = "_gc/";
    public const string IntentsRoot = Root + "intents/";
    public const string RunningRoot = Root + "running/";

    public CollectionGuardOptions Options { get; } = options ?? CollectionGuardOptions.Default;

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public static string IntentKey(string ns, string id) => $"{IntentsRoot}{ns}/{id}.json";
    public static string MarkerKey(string id) => $"{RunningRoot}{id}.json";

    /// <summary>
    /// Writer side: puts the intent, then waits while a live collector runs (at most the marker
    /// lifetime plus a poll). Dispose the result after the commit point, or on failure.
    /// <paramref name="canList"/> false (write-only credentials): the intent is put, but markers
    /// cannot be seen, so there is no wait and the intent is left to expire.
    /// </summary>
    /// <param name="waiting">Told once, with a reason, when the writer has to wait.</param>
    public async Task<WriteIntent> BeginWriteAsync(string ns, CancellationToken ct, Action<string>? waiting = null, bool canList = true)
    {
        CheckNamespace(ns);
        var key = IntentKey(ns, NewId());
        await PutMarkAsync(key, new CollectionMark(CollectionMark.CurrentSchema, "intent", ns, clock.GetUtcNow(), actor), ct);
        var intent = new WriteIntent(this, key, canList);
        if (!canList) return intent;
        try
        {
            await WaitForCollectorsAsync(key, ct, waiting);
            intent.StartRefreshing();
            return intent;
        }
        catch
        {
            await intent.DisposeAsync();
            throw;
        }
    }

    private async Task WaitForCollectorsAsync(string intentKey, CancellationToken ct, Action<string>? waiting)
    {
        // The store's "now" is the intent's timestamp plus the time since it was listed.
        DateTimeOffset? intentTime = null;
        long listedAt = 0;
        bool told = false;
        while (true)
        {
            var live = new List<ObjectInfo>();
            await foreach (var o in store.ListAsync(Root, ct))
            {
                if (o.Key == intentKey && intentTime is null)
                {
                    intentTime = o.LastModified;
                    listedAt = clock.GetTimestamp();
                }
                else if (o.Key.StartsWith(RunningRoot, StringComparison.Ordinal)) live.Add(o);
            }
            // Not listed back (a store without list-after-write consistency): judge by our own write.
            if (intentTime is null)
            {
                intentTime = clock.GetUtcNow();
                listedAt = clock.GetTimestamp();
            }
            var storeNow = intentTime.Value + clock.GetElapsedTime(listedAt);
            live.RemoveAll(m => storeNow - m.LastModified > Options.MarkerTtl);
            if (live.Count == 0) return;
            if (!told)
            {
                waiting?.Invoke($"a garbage collection is running ({live[0].Key}); waiting for it to finish before relying on stored content (at most {Options.MarkerTtl.TotalSeconds:0} s)");
                told = true;
            }
            await Task.Delay(Options.Poll, clock, ct);
        }
    }

    /// <summary>Collector side: puts the marker. Dispose the result when done (also on failure).</summary>
    public async Task<CollectorRun> BeginCollectAsync(CancellationToken ct)
    {
        var key = MarkerKey(NewId());
        long started = clock.GetTimestamp();
        await PutMarkAsync(key, new CollectionMark(CollectionMark.CurrentSchema, "collector", null, clock.GetUtcNow(), actor), ct);
        return new CollectorRun(this, key, started);
    }

    internal async Task PutMarkAsync(string key, CollectionMark mark, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(mark, StoredJson.Default.CollectionMark);
        await store.PutAsync(key, new MemoryStream(body), new PutOptions { Length = body.Length, ContentType = "application/json" }, ct);
    }

    internal async Task<int> LiveIntentsAsync(string markerKey, string ns, CancellationToken ct)
    {
        CheckNamespace(ns);
        var intents = new List<ObjectInfo>();
        var markers = new List<ObjectInfo>();
        DateTimeOffset? now = null;
        await foreach (var o in store.ListAsync(Root, ct))
        {
            if (o.Key == markerKey) now = o.LastModified;
            else if (o.Key.StartsWith(IntentsRoot, StringComparison.Ordinal)) intents.Add(o);
            else if (o.Key.StartsWith(RunningRoot, StringComparison.Ordinal)) markers.Add(o);
        }
        now ??= clock.GetUtcNow();
        int live = 0;
        var prefix = $"{IntentsRoot}{ns}/";
        foreach (var o in intents)
        {
            if (now.Value - o.LastModified > Options.IntentTtl) await DeleteQuietlyAsync(o.Key, ct);
            else if (o.Key.StartsWith(prefix, StringComparison.Ordinal)) live++;
        }
        // Dead collectors' markers would only make writers wait for nothing.
        foreach (var o in markers.Where(m => now.Value - m.LastModified > Options.MarkerTtl)) await DeleteQuietlyAsync(o.Key, ct);
        return live;
    }

    internal async Task DeleteQuietlyAsync(string key, CancellationToken ct)
    {
        try
        {
            await store.DeleteAsync(key, ct);
        }
        catch (StorageException)
        {
            // Left to expire: an intent or marker only ever makes others more careful.
        }
    }

    internal TimeProvider Clock => clock;

    private static void CheckNamespace(string ns)
    {
        if (ns.Length == 0 || ns.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '-')))
            throw new ArgumentException($"a collection namespace is letters, digits and '-', not '{ns}'", nameof(ns));
    }
}

/// <summary>A writer's intent: rewritten in the background while the write runs; removed on dispose.</summary>
internal sealed class WriteIntent : IAsyncDisposable
{
    private readonly CollectionGuard _guard;
    private readonly bool _canDelete;
    private ITimer? _timer;
    private int _disposed;

    internal WriteIntent(CollectionGuard guard, string key, bool canDelete)
    {
        _guard = guard;
        Key = key;
        _canDelete = canDelete;
    }

    public string Key { get; }

    internal void StartRefreshing()
    {
        var every = _guard.Options.IntentRefresh;
        _timer = _guard.Clock.CreateTimer(_ => _ = RefreshAsync(), null, every, every);
    }

    private async Task RefreshAsync()
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        try
        {
            var ns = Key[CollectionGuard.IntentsRoot.Length..Key.LastIndexOf('/')];
            await _guard.PutMarkAsync(Key, new CollectionMark(CollectionMark.CurrentSchema, "intent", ns, _guard.Clock.GetUtcNow(), "refresh"), CancellationToken.None);
        }
        catch (Exception)
        {
            // The next tick tries again; a write that outlives its intent is the rare case the TTL bounds.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_timer is not null) await _timer.DisposeAsync();
        if (_canDelete) await _guard.DeleteQuietlyAsync(Key, CancellationToken.None);
    }
}

/// <summary>One collector run: ask <see cref="WritersInFlightAsync"/> before deleting, and <see cref="MayDelete"/> before each delete.</summary>
internal sealed class CollectorRun : IAsyncDisposable
{
    private readonly CollectionGuard _guard;
    private readonly long _started;
    private bool _expired;
    private int _disposed;

    internal CollectorRun(CollectionGuard guard, string key, long started)
    {
        _guard = guard;
        Key = key;
        _started = started;
    }

    public string Key { get; }

    /// <summary>Live intents of <paramref name="ns"/> now (0: safe to list references and delete).
    /// Also removes intents and markers that outlived their lifetime.</summary>
    public Task<int> WritersInFlightAsync(string ns, CancellationToken ct) => _guard.LiveIntentsAsync(Key, ns, ct);

    /// <summary>False once this run's marker is half its lifetime old: from then on a waiting writer
    /// may declare it dead, so nothing more may be deleted. Stays false once false.</summary>
    public bool MayDelete
    {
        get
        {
            if (!_expired && _guard.Clock.GetElapsedTime(_started) >= _guard.Options.MarkerTtl / 2) _expired = true;
            return !_expired;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _guard.DeleteQuietlyAsync(Key, CancellationToken.None);
    }
}
