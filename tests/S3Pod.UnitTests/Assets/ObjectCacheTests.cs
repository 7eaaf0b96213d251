using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Assets;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.UnitTests.Assets;

/// <summary>
/// The object cache's rules with a fake clock, over the real local store (one directory per bucket),
/// each call to the store counted: TTL, revalidation by stored ETag, immutable locations, offline
/// stale serving, the missing list, rm and invalidate. The same rules against Ceph RGW through a
/// counting proxy are in the integration tests.
/// </summary>
public class ObjectCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-objects-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, CountingStore> _buckets = new();
    private readonly StringWriter _stderr = new();

    public void Dispose() => Directory.Delete(_dir, true);

    private CountingStore Bucket(string name)
    {
        if (!_buckets.TryGetValue(name, out var store))
            _buckets[name] = store = new CountingStore(new LocalObjectStore(Path.Combine(_dir, "buckets", name), "", _clock));
        return store;
    }

    private ObjectCache Cache(TimeSpan? ttl = null, params string[] immutable) => new(
        Path.Combine(_dir, "cache"),
        new AssetSettings(ttl ?? TimeSpan.FromDays(1), immutable.Select(i => S3Uri.ParsePrefix(i, "immutable")).ToList(), Path.Combine(_dir, "assets"), null),
        new BucketStores(Bucket),
        _clock,
        new Reporter(_stderr, false));

    private async Task Put(string bucket, string key, string content) =>
        await Bucket(bucket).PutAsync(key, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)), new PutOptions(), default);

    private static readonly FetchOptions Default = new(TimeSpan.FromDays(1));

    [Fact]
    public async Task Miss_Downloads_ThenHitsWithNoRequest_UntilTheTtl_ThenOneHead()
    {
        await Put("data-bucket", "a/b.csv", "v1");
        var cache = Cache();
        var uri = S3Uri.Parse("s3://data-bucket/a/b.csv");
        var first = await cache.FetchAsync(uri, Default, default);
        Assert.Equal("download", first.Action);
        Assert.Equal(Path.Combine(_dir, "cache", "objects", "data-bucket", "a", "b.csv"), first.Path);
        Assert.Equal("v1", File.ReadAllText(first.Path));
        var store = Bucket("data-bucket");
        Assert.Equal(1, store.Reads);

        store.Reset();
        _clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal("hit", (await cache.FetchAsync(uri, Default, default)).Action);
        Assert.Equal(0, store.Calls);

        _clock.Advance(TimeSpan.FromHours(2));
        var revalidated = await cache.FetchAsync(uri, Default, default);
        Assert.Equal("revalidated", revalidated.Action);
        Assert.Equal((1, 0), (store.Heads, store.Reads));
        Assert.Equal(_clock.GetUtcNow(), revalidated.Record.Checked); // the check time was touched

        store.Reset();
        Assert.Equal("hit", (await cache.FetchAsync(uri, Default, default)).Action);
        Assert.Equal(0, store.Calls);
    }

    [Fact]
    public async Task ZeroTtl_ChecksEveryTime_AndAChangedObjectIsDownloadedAgain()
    {
        await Put("data-bucket", "k", "v1");
        var cache = Cache();
        var uri = S3Uri.Parse("s3://data-bucket/k");
        var always = new FetchOptions(TimeSpan.Zero);
        await cache.FetchAsync(uri, always, default);
        var store = Bucket("data-bucket");
        for (int i = 0; i < 3; i++)
        {
            store.Reset();
            Assert.Equal("revalidated", (await cache.FetchAsync(uri, always, default)).Action);
            Assert.Equal((1, 0), (store.Heads, store.Reads));
        }
        await Put("data-bucket", "k", "v2, longer");
        store.Reset();
        var changed = await cache.FetchAsync(uri, always, default);
        Assert.Equal("download", changed.Action);
        Assert.Equal(1, store.Reads);
        Assert.Equal("v2, longer", File.ReadAllText(changed.Path));
        Assert.Contains("changed", _stderr.ToString());
    }

    [Fact]
    public async Task ImmutableLocations_AreNeverAskedAgain_EvenWithZeroTtl()
    {
        await Put("frozen-bucket", "x", "1");
        await Put("data-bucket", "releases/y", "2");
        await Put("data-bucket", "releases-old/z", "3");
        var cache = Cache(null, "s3://frozen-bucket", "s3://data-bucket/releases");
        var always = new FetchOptions(TimeSpan.Zero);
        foreach (var u in new[] { "s3://frozen-bucket/x", "s3://data-bucket/releases/y", "s3://data-bucket/releases-old/z" })
            await cache.FetchAsync(S3Uri.Parse(u), always, default);
        Bucket("frozen-bucket").Reset();
        Bucket("data-bucket").Reset();
        Assert.Equal("hit", (await cache.FetchAsync(S3Uri.Parse("s3://frozen-bucket/x"), always, default)).Action);
        Assert.Equal("hit", (await cache.FetchAsync(S3Uri.Parse("s3://data-bucket/releases/y"), always, default)).Action);
        Assert.Equal(0, Bucket("frozen-bucket").Calls + Bucket("data-bucket").Calls);
        // A sibling prefix is not covered by the declaration.
        Assert.Equal("revalidated", (await cache.FetchAsync(S3Uri.Parse("s3://data-bucket/releases-old/z"), always, default)).Action);
        // An explicit --revalidate asks even there.
        Assert.Equal("revalidated", (await cache.FetchAsync(S3Uri.Parse("s3://frozen-bucket/x"), always with { Revalidate = true }, default)).Action);
    }

    [Fact]
    public async Task Offline_ServesTheStaleCopyWithAWarning_StrictFails_AndAMissIsOfflineAndListed()
    {
        await Put("data-bucket", "k", "v1");
        var cache = Cache();
        var uri = S3Uri.Parse("s3://data-bucket/k");
        await cache.FetchAsync(uri, Default, default);
        _clock.Advance(TimeSpan.FromDays(3));
        Bucket("data-bucket").Offline = true;

        var stale = await cache.FetchAsync(uri, Default, default);
        Assert.Equal("stale", stale.Action);
        Assert.Equal("v1", File.ReadAllText(stale.Path));
        Assert.Contains("serving the copy last checked 3 d ago", _stderr.ToString());

        var strict = await Assert.ThrowsAsync<S3PodException>(() => cache.FetchAsync(uri, Default with { Strict = true }, default));
        Assert.Equal(FailureKind.Offline, strict.Kind);

        var missing = S3Uri.Parse("s3://data-bucket/never-fetched");
        var miss = await Assert.ThrowsAsync<S3PodException>(() => cache.FetchAsync(missing, Default, default));
        Assert.Equal(FailureKind.Offline, miss.Kind);
        Assert.Contains("is not cached", miss.Message);
        Assert.Equal(["s3://data-bucket/never-fetched"], cache.Missing());

        // Back online: the entry leaves the missing list once it is fetched.
        Bucket("data-bucket").Offline = false;
        await Put("data-bucket", "never-fetched", "now here");
        await cache.FetchAsync(missing, Default, default);
        Assert.Empty(cache.Missing());
    }

    [Fact]
    public async Task NotFound_IsExitOne_AndAnObjectDeletedRemotelyLeavesTheCache()
    {
        var cache = Cache();
        var e = await Assert.ThrowsAsync<S3PodException>(() => cache.FetchAsync(S3Uri.Parse("s3://data-bucket/none"), Default, default));
        Assert.Equal(FailureKind.NotFound, e.Kind);

        await Put("data-bucket", "gone", "x");
        var uri = S3Uri.Parse("s3://data-bucket/gone");
        var path = (await cache.FetchAsync(uri, Default, default)).Path;
        await Bucket("data-bucket").DeleteAsync("gone", default);
        e = await Assert.ThrowsAsync<S3PodException>(() => cache.FetchAsync(uri, new FetchOptions(TimeSpan.Zero), default));
        Assert.Equal(FailureKind.NotFound, e.Kind);
        Assert.False(File.Exists(path));
        Assert.Null(cache.Lookup(uri));
    }

    [Fact]
    public async Task ListRemoveInvalidate()
    {
        await Put("data-bucket", "a", "1");
        await Put("data-bucket", "b/c", "22");
        var cache = Cache();
        await cache.FetchAsync(S3Uri.Parse("s3://data-bucket/b/c"), Default, default);
        await cache.FetchAsync(S3Uri.Parse("s3://data-bucket/a"), Default, default);
        Assert.Equal(["s3://data-bucket/a", "s3://data-bucket/b/c"], cache.List().Select(o => o.Record.Uri));
        Assert.All(cache.List(), o => Assert.False(o.Outdated));

        Assert.Equal(1, await cache.InvalidateAsync(S3Uri.Parse("s3://data-bucket/a"), default));
        Assert.True(cache.List()[0].Outdated);
        var store = Bucket("data-bucket");
        store.Reset();
        Assert.Equal("revalidated", (await cache.FetchAsync(S3Uri.Parse("s3://data-bucket/a"), Default, default)).Action);
        Assert.Equal(1, store.Heads);
        Assert.Equal(2, await cache.InvalidateAsync(null, default));

        Assert.True(await cache.RemoveAsync(S3Uri.Parse("s3://data-bucket/b/c"), default));
        Assert.False(Directory.Exists(Path.Combine(_dir, "cache", "objects", "data-bucket", "b"))); // emptied directories go too
        Assert.False(await cache.RemoveAsync(S3Uri.Parse("s3://data-bucket/b/c"), default));
        Assert.Equal(["s3://data-bucket/a"], cache.List().Select(o => o.Record.Uri));
    }

    [Fact]
    public async Task ParallelFetchesOfOneObject_DownloadItOnce()
    {
        await Put("data-bucket", "big", new string('x', 1 << 20));
        Bucket("data-bucket").ReadDelay = TimeSpan.FromMilliseconds(300);
        var uri = S3Uri.Parse("s3://data-bucket/big");
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Cache().FetchAsync(uri, new FetchOptions(TimeSpan.Zero), default))));
        Assert.Equal(1, Bucket("data-bucket").Reads);
        Assert.Single(results, r => r.Action == "download");
    }

    [Fact]
    public async Task ALeftoverPartialDownload_IsNeverTakenForTheObject_AndIsCleanedUp()
    {
        await Put("data-bucket", "k", "complete");
        var cache = Cache();
        var uri = S3Uri.Parse("s3://data-bucket/k");
        var path = cache.ContentPath(uri);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = Path.Combine(Path.GetDirectoryName(path)!, ".k.s3pod-0123456789abcdef0123456789abcdef");
        File.WriteAllText(partial, "compl");
        // A content file without its record (killed between the rename and the record) is not an entry either.
        File.WriteAllText(path, "stale bytes");
        Assert.Null(cache.Lookup(uri));
        var fetched = await cache.FetchAsync(uri, Default, default);
        Assert.Equal("download", fetched.Action);
        Assert.Equal("complete", File.ReadAllText(path));
        Assert.False(File.Exists(partial));
    }

    /// <summary>A real store, with every call counted and an offline switch.</summary>
    private sealed class CountingStore(IObjectStore inner) : IObjectStore
    {
        private int _heads, _reads, _lists;
        public int Heads => _heads;
        public int Reads => _reads;
        public int Calls => _heads + _reads + _lists;
        public bool Offline { get; set; }
        /// <summary>How long a read takes to start: keeps concurrent fetches in flight together.</summary>
        public TimeSpan ReadDelay { get; set; }
        public void Reset() => _heads = _reads = _lists = 0;

        private void Check()
        {
            if (Offline) throw new StorageException(StorageFailure.Unreachable, "cannot reach http://127.0.0.1:9: Connection refused");
        }

        public string Location => inner.Location;
        public string Identity => inner.Identity;

        public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct)
        {
            Check();
            Interlocked.Increment(ref _heads);
            return inner.HeadAsync(key, ct);
        }

        public async Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct)
        {
            Check();
            Interlocked.Increment(ref _reads);
            await Task.Delay(ReadDelay, ct);
            return await inner.OpenReadAsync(key, options, ct);
        }

        public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct, string? startAfter = null)
        {
            Check();
            Interlocked.Increment(ref _lists);
            await foreach (var o in inner.ListAsync(prefix, ct, startAfter)) yield return o;
        }

        public Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct) => inner.PutAsync(key, content, options, ct);
        public Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null) => inner.DeleteAsync(key, ct, ifMatch);
        public Task CheckAccessAsync(CancellationToken ct) => inner.CheckAccessAsync(ct);
        public Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false) => inner.GetCapabilitiesAsync(ct, refresh);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
