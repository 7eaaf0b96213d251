using System.Text.Json;
using S3Pod.Archive;
using S3Pod.Artifacts;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.TestProxy;

namespace S3Pod.IntegrationTests;

/// <summary>
/// The artifact ledger against the real server the suite runs on: on one that enforces conditional
/// writes (Ceph RGW) concurrent writers stay correct; on one that ignores them (s3rver) ledger writes
/// are refused unless a single writer is assumed. Each test has its own bucket and local caches.
/// </summary>
public sealed class ArtifactLedgerTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("s3pod-it-artifacts-").FullName;
    private readonly string _bucket = S3Server.NewBucketName();
    private readonly StringWriter _log = new();
    private readonly List<IObjectStore> _stores = [];

    public async Task InitializeAsync()
    {
        if (!string.IsNullOrEmpty(S3Server.Endpoint)) _stores.Add(await S3Server.NewStoreAsync(_bucket, "art"));
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _stores) await s.DisposeAsync();
        foreach (var f in Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)) System.IO.File.SetAttributes(f, FileAttributes.Normal);
        Directory.Delete(_root, true);
    }

    /// <summary>A client of its own (as another process would have), with its own local caches.</summary>
    private ArtifactService Service(string machine, bool assumeSingleWriter = false, string? endpoint = null)
    {
        var store = new S3ObjectStore(new S3Target(endpoint ?? S3Server.Endpoint, S3Server.Region, _bucket, "art", new StaticCredentials(S3Server.KeyId, S3Server.Secret)),
            capabilityCache: new CapabilityCache(Path.Combine(_root, machine), TimeProvider.System));
        lock (_stores) _stores.Add(store);
        return new ArtifactService(() => store, new ArtifactOptions($"it {machine}", Path.Combine(_root, machine, "artifacts"), "it", assumeSingleWriter),
            new Reporter(TextWriter.Synchronized(_log), false), TimeProvider.System, FileSystems.Select(null));
    }

    private string File(string name, string text)
    {
        var p = Path.Combine(_root, "src", name);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllText(p, text);
        return p;
    }

    private static PushRequest Push(string name, string path, string? scheme = null) =>
        new(name, path, scheme, VersionRequest.Default, [], new Dictionary<string, string>(), null, 3);

    private static async Task<string> Cat(ArtifactService service, string spec)
    {
        var ms = new MemoryStream();
        await service.CatAsync(ArtifactSpec.Parse(spec), ms, default);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void SkipUnlessEnforcing()
    {
        S3Server.SkipIfAbsent();
        Skip.IfNot(S3Server.EnforcesConditionalWrites, $"the {S3Server.Flavor} server does not enforce conditional writes: the concurrent-writer guarantees need one that does (Ceph RGW)");
    }

    [SkippableFact]
    public async Task SixteenConcurrentPushes_GetVersionsOneToSixteen_EachWithItsOwnContent()
    {
        SkipUnlessEnforcing();
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            Service($"m{i}").PushAsync(Push("app", File($"c{i}", $"content {i}")), default))));
        Assert.Equal(Enumerable.Range(1, 16).Select(n => n.ToString()), results.Select(r => r.Version).OrderBy(int.Parse));
        var reader = Service("reader");
        for (int i = 0; i < 16; i++) Assert.Equal($"content {i}", await Cat(reader, $"app:{results[i].Version}"));
        Assert.Equal("16", (await reader.InfoAsync(ArtifactSpec.Parse("app"), default)).Version);
    }

    [SkippableFact]
    public async Task EightConcurrentAliasSets_ExpectingTheSameVersion_ExactlyOneWins()
    {
        SkipUnlessEnforcing();
        var setup = Service("setup");
        for (int i = 0; i < 9; i++) await setup.PushAsync(Push("app", File($"v{i}", $"v{i}")), default);
        await setup.SetAliasAsync(new AliasSetRequest("app", "live", "1", null, null, null), default);
        var outcomes = await Task.WhenAll(Enumerable.Range(2, 8).Select(v => Task.Run(async () =>
        {
            try
            {
                await Service($"a{v}").SetAliasAsync(new AliasSetRequest("app", "live", v.ToString(), null, null, "1"), default);
                return v;
            }
            catch (S3PodException e) when (e.Kind == FailureKind.Conflict)
            {
                return 0;
            }
        })));
        var winner = Assert.Single(outcomes, o => o != 0);
        Assert.Equal($"v{winner - 1}", await Cat(Service("check"), "app:live"));
    }

    [SkippableFact]
    public async Task NonEnforcingServer_RefusesLedgerWrites_UnlessASingleWriterIsAssumed()
    {
        S3Server.SkipIfAbsent();
        Skip.If(S3Server.EnforcesConditionalWrites, $"the {S3Server.Flavor} server enforces conditional writes; this is the path for servers that ignore them (s3rver)");
        var refused = await Assert.ThrowsAsync<S3PodException>(() => Service("strict").PushAsync(Push("app", File("a", "a")), default));
        Assert.Equal(FailureKind.Operational, refused.Kind);
        Assert.Contains("does not enforce conditional writes", refused.Message);
        Assert.Contains("--assume-single-writer", refused.Message);
        var keys = new List<string>();
        await foreach (var o in _stores[0].ListAsync("", default)) keys.Add(o.Key);
        Assert.DoesNotContain(keys, k => k.StartsWith("blobs/") || k.StartsWith("artifacts/"));

        var single = Service("single", assumeSingleWriter: true);
        Assert.Equal("1", (await single.PushAsync(Push("app", File("a", "a")), default)).Version);
        Assert.Equal("2", (await single.PushAsync(Push("app", File("b", "b")), default)).Version);
        await single.SetAliasAsync(new AliasSetRequest("app", "live", "1", null, null, "none"), default);
        await Assert.ThrowsAsync<S3PodException>(() => single.SetAliasAsync(new AliasSetRequest("app", "live", "2", null, null, "none"), default));
        await single.StageAsync(new StageRequest("app", File("h", "head"), null, new Dictionary<string, string>(), null, 3), default);
        Assert.Equal("3", (await single.PublishAsync(new PublishRequest("app", VersionRequest.Default, [], false), default)).Version);
        Assert.Equal("3", (await single.PublishAsync(new PublishRequest("app", VersionRequest.Default, [], false), default)).Version);
        Assert.True((await single.RemoveVersionAsync("app", "3", false, default)).Deleted);
        Assert.Equal("4", (await single.PushAsync(Push("app", File("c", "c")), default)).Version);
        Assert.Equal("a", await Cat(single, "app:live"));
        Assert.Contains("relying on assume_single_writer", _log.ToString());
    }

    [SkippableFact]
    public async Task VersionsAndLatest_Of2000Versions_CostOnlyListPages_AndSeeAVersionAddedBehindTheirBack()
    {
        SkipUnlessEnforcing();
        const int count = 2000;
        var store = _stores[0];
        var writer = Service("writer");
        var first = await writer.PushAsync(Push("big", File("x", "x")), default);
        // The other 1,999 records written straight into the bucket, 32 at a time (pushing them costs minutes).
        var template = (await writer.InfoAsync(ArtifactSpec.Parse("big:1"), default)).Record!;
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(Enumerable.Range(2, count - 1).Select(async v =>
            {
                await gate.WaitAsync();
                try
                {
                    var body = JsonSerializer.SerializeToUtf8Bytes(template with { Version = v.ToString() }, ArtifactJson.Default.VersionRecord);
                    await store.PutAsync(ArtifactLayout.Version("big", v.ToString()), new MemoryStream(body), new PutOptions { Length = body.Length }, default);
                }
                finally { gate.Release(); }
            }));
        }

        await using var proxy = new FaultProxy(new Uri(S3Server.Endpoint!));
        var reader = Service("reader", endpoint: proxy.Endpoint);
        // Counting from a mark: the requests since the last Reset().
        int mark = 0;
        IReadOnlyList<ProxyRecord> Since() => proxy.Requests.Skip(mark).ToList();
        void Reset() => mark = proxy.Requests.Count;
        // What "nothing changed" costs: LIST pages only (S3 returns up to 1,000 keys a page; Ceph RGW
        // sometimes fewer, so 2,000 records take 2 or 3 pages there), no record read.
        void OnlyListPages(string of, int atMost)
        {
            var requests = Since();
            Assert.True(requests.Count <= atMost && requests.All(r => r.Method == "GET" && r.Query.Contains("list-type=2") && r.Query.Contains(of)), string.Join("; ", requests));
        }
        var versions = await reader.VersionsAsync("big", false, default);
        Assert.Equal(count, versions.Versions.Count);
        Assert.Equal(count.ToString(), versions.Latest);
        var cold = Since().Count;
        Reset();
        await reader.VersionsAsync("big", false, default);
        var warmVersions = Since().Count;
        OnlyListPages("big%2F_", 3);
        Reset();
        Assert.Equal(count.ToString(), (await reader.InfoAsync(ArtifactSpec.Parse("big"), default)).Version);
        var latestCold = Since().Count;
        Reset();
        Assert.Equal(count.ToString(), (await reader.InfoAsync(ArtifactSpec.Parse("big"), default)).Version);
        var warmLatest = Since().Count;
        OnlyListPages("big%2F_versions%2F", 3);

        // Another writer commits a version: no index to go stale, the next listing has it.
        await writer.PushAsync(Push("big", File("y", "y")), default);
        Reset();
        Assert.Equal((count + 1).ToString(), (await reader.InfoAsync(ArtifactSpec.Parse("big"), default)).Version);
        Assert.Equal(warmLatest + 2, Since().Count); // the same pages, and the new record (HEAD + GET)
        Console.WriteLine($"artifact requests, {count} versions on {S3Server.Flavor}: versions cold {cold}, warm {warmVersions}; latest cold {latestCold}, warm {warmLatest}; after a new version {warmLatest + 2}");
        Assert.Equal(first.Digest, (await reader.InfoAsync(ArtifactSpec.Parse("big:1500"), default)).Record!.Digest);
    }
}
