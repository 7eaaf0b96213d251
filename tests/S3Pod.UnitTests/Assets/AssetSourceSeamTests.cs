using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Assets;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Artifacts;

namespace S3Pod.UnitTests.Assets;

/// <summary>
/// The resolver's contract with the artifact ledger (<see cref="IAssetSource"/>), with an in-memory
/// ledger standing in for the one the artifacts feature plugs in: when it is asked (never for a
/// pinned version that is present), that a version is written once under concurrency, that a failed
/// write leaves nothing at the path, and the offline fallbacks.
/// </summary>
public class AssetSourceSeamTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-seam-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly StringWriter _stderr = new();
    private readonly MemoryLedger _ledger = new();
    private string AssetsDir => Path.Combine(_dir, "assets");

    public void Dispose() => Directory.Delete(_dir, true);

    private AssetResolver Resolver(IAssetSource? source, Dictionary<string, string>? env = null)
    {
        var settings = new AssetSettings(TimeSpan.FromDays(1), [], AssetsDir, null);
        var objects = new ObjectCache(Path.Combine(_dir, "cache"), settings, new BucketStores(b => throw new InvalidOperationException("no S3 in these tests")), _clock, new Reporter(_stderr, false));
        return new AssetResolver(new AssetsDirectory(AssetsDir), new ManifestFile(null, _dir), source, objects,
            n => env is not null && env.TryGetValue(n, out var v) ? v : null, _dir, new Reporter(_stderr, false), _clock);
    }

    private static readonly FetchOptions Options = new(TimeSpan.FromDays(1));

    [Fact]
    public async Task PinnedAndPresent_NeverAsksTheLedger_UnpinnedAlwaysDoes()
    {
        _ledger.Add("m/x", "1.0", "one");
        _ledger.Add("m/x", "1.1", "one-one");
        var resolver = Resolver(_ledger);
        var first = await resolver.ResolveAsync("m/x:1.0", Options, default);
        Assert.Equal(("download", "one"), (first.Action, File.ReadAllText(first.Path)));
        Assert.Equal((1, 1), (_ledger.Resolves, _ledger.Materializes));

        _ledger.Reset();
        Assert.Equal("local", (await resolver.ResolveAsync("m/x:1.0", Options, default)).Action);
        Assert.Equal((0, 0), (_ledger.Resolves, _ledger.Materializes));

        // Unpinned (latest, partial): the ledger decides, then the local copy is used if present.
        var latest = await resolver.ResolveAsync("m/x", Options, default);
        Assert.Equal(("1.1", "download"), (latest.Version, latest.Action));
        _ledger.Reset();
        var partial = await resolver.ResolveAsync("m/x:1", Options, default);
        Assert.Equal(("1.1", "local"), (partial.Version, partial.Action));
        Assert.Equal((1, 0), (_ledger.Resolves, _ledger.Materializes));

        var record = File.ReadAllText(Path.Combine(AssetsDir, "m", "x", ".1.1.s3pod.json"));
        Assert.Contains(MemoryLedger.Digest("one-one"), record);
        Assert.Contains("memory://ledger", record);
    }

    [Fact]
    public async Task ConcurrentRequestsForOneVersion_WriteItOnce()
    {
        _ledger.Add("m/big", "2.0", new string('z', 1 << 20));
        _ledger.Delay = TimeSpan.FromMilliseconds(200);
        var resolvers = Enumerable.Range(0, 6).Select(_ => Resolver(_ledger)).ToList();
        var results = await Task.WhenAll(resolvers.Select(r => Task.Run(() => r.ResolveAsync("m/big:2.0", Options, default))));
        Assert.Equal(1, _ledger.Materializes);
        Assert.Single(results, r => r.Action == "download");
        Assert.All(results, r => Assert.Equal(1 << 20, new FileInfo(r.Path).Length));
    }

    [Fact]
    public async Task AFailedWrite_LeavesNothingAtThePath_AndTheNextRunWritesIt()
    {
        _ledger.Add("m/d", "0.1", "content");
        _ledger.FailAfterWriting = true;
        var resolver = Resolver(_ledger);
        var e = await Assert.ThrowsAsync<S3PodException>(() => resolver.ResolveAsync("m/d:0.1", Options, default));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(AssetsDir, "m", "d"))); // no version, no temp, no record

        _ledger.FailAfterWriting = false;
        var ok = await resolver.ResolveAsync("m/d:0.1[inner.txt]", Options, default);
        Assert.Equal("content", File.ReadAllText(ok.Path));
    }

    [Fact]
    public async Task LedgerUnreachable_UnpinnedFallsBackToTheNewestLocal_PinnedMissingIsOffline()
    {
        _ledger.Add("m/x", "1.0", "one");
        var resolver = Resolver(_ledger);
        await resolver.ResolveAsync("m/x:1.0", Options, default);
        _ledger.Offline = true;

        var fallback = await resolver.ResolveAsync("m/x:1", Options, default);
        Assert.Equal(("stale", "1.0"), (fallback.Action, fallback.Version));
        Assert.Contains("a newer version may exist", _stderr.ToString());
        Assert.Equal(FailureKind.Offline, (await Assert.ThrowsAsync<S3PodException>(() => resolver.ResolveAsync("m/x:1", Options with { Strict = true }, default))).Kind);
        Assert.Equal(FailureKind.Offline, (await Assert.ThrowsAsync<S3PodException>(() => resolver.ResolveAsync("m/x:2.0", Options, default))).Kind);
        // Pinned and present: still fine offline, and the ledger is not even asked.
        Assert.Equal("local", (await resolver.ResolveAsync("m/x:1.0", Options, default)).Action);
    }

    [Fact]
    public async Task EnvironmentVersionOverride_GoesThroughTheLedger()
    {
        _ledger.Add("m/x", "1.0", "one");
        _ledger.Add("m/x", "3.0", "three");
        var r = await Resolver(_ledger, new() { ["S3POD_ASSET_M_X_VERSION"] = "3.0" }).ResolveAsync("m/x:1.0", Options, default);
        Assert.Equal(("3.0", "S3POD_ASSET_M_X_VERSION"), (r.Version, r.OverriddenBy));
    }

    /// <summary>An in-memory ledger: versions of files, and "directories" holding one file inner.txt.</summary>
    private sealed class MemoryLedger : IAssetSource
    {
        private readonly Dictionary<string, List<(string Version, string Content)>> _versions = new();
        private int _resolves, _materializes;
        public int Resolves => _resolves;
        public int Materializes => _materializes;
        public bool Offline { get; set; }
        public bool FailAfterWriting { get; set; }
        public TimeSpan Delay { get; set; }
        public void Reset() => _resolves = _materializes = 0;

        public string Location => "memory://ledger";

        public static string Digest(string content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

        public void Add(string name, string version, string content)
        {
            if (!_versions.TryGetValue(name, out var list)) _versions[name] = list = [];
            list.Add((version, content));
        }

        public Task<RemoteAsset> ResolveAsync(string name, string? selector, CancellationToken ct)
        {
            if (Offline) throw new StorageException(StorageFailure.Unreachable, "cannot reach memory://ledger");
            Interlocked.Increment(ref _resolves);
            var list = _versions.GetValueOrDefault(name) ?? throw S3PodException.NotFound($"no artifact {name}");
            var pick = list.Select(v => (Parsed: SchemelessVersion.Parse(v.Version), v.Content))
                .Where(v => selector is null || selector == "latest" || v.Parsed.Text == selector || (SchemelessVersion.IsPartial(selector) && v.Parsed.IsUnder(selector)))
                .OrderBy(v => v.Parsed).LastOrDefault();
            if (pick.Parsed is null) throw S3PodException.NotFound($"{name}:{selector} does not exist");
            var kind = name.EndsWith("/d", StringComparison.Ordinal) ? AssetKind.Directory : AssetKind.File;
            return Task.FromResult(new RemoteAsset(name, pick.Parsed.Text, kind, Digest(pick.Content), pick.Content.Length));
        }

        public async Task MaterializeAsync(RemoteAsset asset, string destination, CancellationToken ct)
        {
            if (Offline) throw new StorageException(StorageFailure.Unreachable, "cannot reach memory://ledger");
            Interlocked.Increment(ref _materializes);
            await Task.Delay(Delay, ct);
            var content = _versions[asset.Name].Single(v => v.Version == asset.Version).Content;
            if (asset.Kind == AssetKind.Directory)
            {
                Directory.CreateDirectory(destination);
                await File.WriteAllTextAsync(Path.Combine(destination, "inner.txt"), content, ct);
            }
            else
            {
                await File.WriteAllTextAsync(destination, content, ct);
            }
            if (FailAfterWriting) throw S3PodException.Integrity($"{asset.Name}:{asset.Version}: digest mismatch");
        }
    }
}
