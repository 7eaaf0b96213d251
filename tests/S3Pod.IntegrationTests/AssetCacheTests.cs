using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using S3Pod.Commands;
using S3Pod.Storage;

namespace S3Pod.IntegrationTests;

/// <summary>
/// The object cache against a real S3 server (Ceph RGW), the CLI in-process, every request counted by
/// a proxy in front of the server: revalidation costs one HEAD, a change one GET, an immutable
/// location nothing; a server that goes away gets stale copies served and misses reported offline.
/// </summary>
public sealed class AssetCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-it-assets-").FullName;
    private readonly Dictionary<string, string> _env = new();

    public void Dispose() => Directory.Delete(_dir, true);

    private void PointAt(string endpoint)
    {
        _env["HOME"] = _dir;
        _env["S3POD_ENDPOINT"] = endpoint;
        _env["S3POD_REGION"] = S3Server.Region;
        _env["S3POD_S3_KEY_ID"] = S3Server.KeyId;
        _env["S3POD_S3_SECRET"] = S3Server.Secret;
        // An internal error in a test shows its stack trace (a prefill once failed with "Destination is too short" and nothing more).
        _env["S3POD_DEBUG"] = "1";
        _env["S3POD_RETRIES"] = "1";
    }

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(n => _env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, _dir);
        var code = await app.RunAsync(args, default);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static async Task<(S3ObjectStore Store, string Bucket)> NewBucket()
    {
        var store = await S3Server.NewStoreAsync(prefix: "");
        return (store, store.Location.Split('/')[2]);
    }

    private static Task Put(IObjectStore store, string key, string text) =>
        store.PutAsync(key, new MemoryStream(Encoding.UTF8.GetBytes(text)), new PutOptions(), default);

    [SkippableFact]
    public async Task Revalidation_IsOneHead_AChangeOneGet_AFreshCopyNothing()
    {
        S3Server.SkipIfAbsent();
        var (store, bucket) = await NewBucket();
        await using var _ = store;
        await Put(store, "data/table.csv", "a,b\n1,2\n");
        await using var proxy = new RecordingProxy(new Uri(S3Server.Endpoint!));
        PointAt(proxy.Url);
        var uri = $"s3://{bucket}/data/table.csv";

        var first = await Run("asset", "fetch", uri);
        Assert.True(first.Code == 0, first.Err);
        var path = first.Out.Trim();
        Assert.Equal(Path.Combine(_dir, ".cache", "s3pod", "objects", bucket, "data", "table.csv"), path);
        Assert.Equal("a,b\n1,2\n", File.ReadAllText(path));
        Assert.Equal(1, proxy.Count("GET"));

        proxy.Reset();
        Assert.Equal(0, (await Run("asset", "fetch", uri)).Code);
        Assert.Empty(proxy.Requests()); // within the TTL: no request at all

        proxy.Reset();
        var check = await Run("asset", "fetch", uri, "--ttl", "0s", "--json");
        Assert.Equal(0, check.Code);
        Assert.Equal([("HEAD", "/" + bucket + "/data/table.csv")], proxy.Requests());
        using (var doc = JsonDocument.Parse(check.Out)) Assert.Equal("revalidated", doc.RootElement.GetProperty("action").GetString());

        await Put(store, "data/table.csv", "a,b\n3,4\n5,6\n");
        proxy.Reset();
        var changed = await Run("asset", "fetch", uri, "--ttl", "0s");
        Assert.Equal(0, changed.Code);
        Assert.Equal(1, proxy.Count("GET"));
        Assert.Equal("a,b\n3,4\n5,6\n", File.ReadAllText(path));

        // The TTL from the environment works the same; `cat` and `path` take URIs too.
        _env["S3POD_ASSET_TTL"] = "0s";
        proxy.Reset();
        Assert.Equal(path, (await Run("asset", "path", uri)).Out.Trim());
        Assert.Equal((1, 0), (proxy.Count("HEAD"), proxy.Count("GET")));
    }

    [SkippableFact]
    public async Task MultipartObjects_AreRevalidatedByTheirStoredETag_NotReDownloaded()
    {
        S3Server.SkipIfAbsent();
        var (store, bucket) = await NewBucket();
        await using var _ = store;
        // The AWS CLI uploads 20 MiB in 8 MiB parts: an ETag like "…-3" that is no MD5 of the content,
        // which made baiji-pod download such objects again on every check.
        var data = new byte[20 << 20];
        new Random(5).NextBytes(data);
        var aws = S3Server.Peer(S3Server.Aws, ["--endpoint-url", S3Server.Endpoint!, "s3", "cp", "-", $"s3://{bucket}/big/model.bin"], data);
        Assert.True(aws.Code == 0, aws.Stderr);
        var etag = (await store.HeadAsync("big/model.bin", default))!.ETag!;
        Skip.IfNot(etag.EndsWith("-3\"", StringComparison.Ordinal), $"{S3Server.Flavor} gives this multipart object the ETag {etag}, an MD5 of the content: the case does not arise there");

        await using var proxy = new RecordingProxy(new Uri(S3Server.Endpoint!));
        PointAt(proxy.Url);
        var uri = $"s3://{bucket}/big/model.bin";
        var first = await Run("asset", "fetch", uri);
        Assert.True(first.Code == 0, first.Err);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(File.ReadAllBytes(first.Out.Trim())));
        for (int i = 0; i < 2; i++)
        {
            proxy.Reset();
            Assert.Equal(0, (await Run("asset", "fetch", uri, "--ttl", "0s")).Code);
            Assert.Equal((1, 0), (proxy.Count("HEAD"), proxy.Count("GET")));
        }
    }

    [SkippableFact]
    public async Task ImmutableLocations_CostNoRequestAtAll()
    {
        S3Server.SkipIfAbsent();
        var (store, bucket) = await NewBucket();
        await using var _ = store;
        await Put(store, "frozen/v1.json", "{}");
        await Put(store, "frozen-not/v1.json", "{}");
        await using var proxy = new RecordingProxy(new Uri(S3Server.Endpoint!));
        PointAt(proxy.Url);
        _env["S3POD_ASSET_IMMUTABLE"] = $"s3://other-bucket, s3://{bucket}/frozen";
        Assert.Equal(0, (await Run("asset", "fetch", $"s3://{bucket}/frozen/v1.json")).Code);
        Assert.Equal(0, (await Run("asset", "fetch", $"s3://{bucket}/frozen-not/v1.json")).Code);
        proxy.Reset();
        for (int i = 0; i < 3; i++) Assert.Equal(0, (await Run("asset", "fetch", $"s3://{bucket}/frozen/v1.json", "--ttl", "0s")).Code);
        Assert.Empty(proxy.Requests());
        Assert.Equal(0, (await Run("asset", "fetch", $"s3://{bucket}/frozen-not/v1.json", "--ttl", "0s")).Code);
        Assert.Equal(1, proxy.Count("HEAD"));

        var ls = await Run("asset", "cache", "ls", "-l");
        Assert.Contains($"s3://{bucket}/frozen/v1.json  2 B", ls.Out);
        Assert.Contains("immutable", ls.Out);
    }

    [SkippableFact]
    public async Task ServerGone_StaleCopyServedWithAWarning_StrictAndMissesAreOffline()
    {
        S3Server.SkipIfAbsent();
        var (store, bucket) = await NewBucket();
        await using var _ = store;
        await Put(store, "cfg.json", "{\"v\":1}");
        var proxy = new RecordingProxy(new Uri(S3Server.Endpoint!));
        PointAt(proxy.Url);
        var uri = $"s3://{bucket}/cfg.json";
        Assert.Equal(0, (await Run("asset", "fetch", uri)).Code);
        await proxy.DisposeAsync(); // the server went away: connections are refused from now on

        var stale = await Run("asset", "cat", uri, "--ttl", "0s");
        Assert.True(stale.Code == 0, stale.Err);
        Assert.Contains("warning", stale.Err);
        Assert.Contains("cannot reach", stale.Err);
        Assert.Contains("may be outdated", stale.Err);
        var json = await Run("asset", "path", uri, "--ttl", "0s", "--json");
        using (var doc = JsonDocument.Parse(json.Out)) Assert.Equal("stale", doc.RootElement.GetProperty("action").GetString());

        var strict = await Run("asset", "fetch", uri, "--ttl", "0s", "--strict");
        Assert.Equal(ExitCodes.Offline, strict.Code);

        var miss = await Run("asset", "fetch", $"s3://{bucket}/never.json", "--json");
        Assert.Equal(ExitCodes.Offline, miss.Code);
        using (var doc = JsonDocument.Parse(miss.Out)) Assert.Contains("is not cached", doc.RootElement.GetProperty("error").GetString());
        var ls = await Run("asset", "cache", "ls", "--json");
        using (var doc = JsonDocument.Parse(ls.Out))
            Assert.Equal([$"s3://{bucket}/never.json"], doc.RootElement.GetProperty("missing").EnumerateArray().Select(e => e.GetString()));
    }

    [SkippableFact]
    public async Task KeysNoPathCanHold_AreCached_AndAKeyUnderAnotherIsRefusedClearly()
    {
        S3Server.SkipIfAbsent();
        var (store, bucket) = await NewBucket();
        await using var _ = store;
        PointAt(S3Server.Endpoint!);
        var keys = new Dictionary<string, string> { ["x/../y"] = "dots", ["dir//k"] = "double", ["trailing/"] = "marker", ["a"] = "file a", ["a/b"] = "under a", ["100%"] = "percent" };
        var raw = new S3ObjectStore(new S3Target(S3Server.Endpoint, S3Server.Region, bucket, "", new StaticCredentials(S3Server.KeyId, S3Server.Secret)));
        await using (raw)
        {
            foreach (var (k, v) in keys) await raw.PutAsync(k, new MemoryStream(Encoding.UTF8.GetBytes(v)), new PutOptions(), default);
        }
        foreach (var k in new[] { "x/../y", "dir//k", "trailing/", "a", "100%" })
        {
            var r = await Run("asset", "cat", $"s3://{bucket}/{k}");
            Assert.True(r.Code == 0, $"{k}: {r.Err}");
            Assert.Equal(keys[k], File.ReadAllText((await Run("asset", "path", $"s3://{bucket}/{k}")).Out.Trim()));
        }
        var clash = await Run("asset", "fetch", $"s3://{bucket}/a/b");
        Assert.Equal(ExitCodes.OperationalError, clash.Code);
        Assert.Contains("is in the way", clash.Err);
        Assert.Contains("asset cache rm", clash.Err);
        Assert.Equal(0, (await Run("asset", "cache", "rm", $"s3://{bucket}/a")).Code);
        Assert.Equal(0, (await Run("asset", "fetch", $"s3://{bucket}/a/b")).Code);
    }

    [SkippableFact]
    public async Task Prefill_FetchesInParallel_ReportsEveryFailureAtTheEnd()
    {
        S3Server.SkipIfAbsent();
        var (store, bucket) = await NewBucket();
        await using var _ = store;
        var lines = new List<string> { "# objects for the test job", "" };
        for (int i = 0; i < 200; i++) lines.Add($"s3://{bucket}/small/{i:D3}.txt");
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) => await Put(store, $"small/{i:D3}.txt", $"object {i}\n"));
        File.WriteAllLines(Path.Combine(_dir, "list.txt"), lines);
        await using var proxy = new RecordingProxy(new Uri(S3Server.Endpoint!));
        PointAt(proxy.Url);

        var r = await Run("asset", "prefill", "list.txt", "--json");
        Assert.True(r.Code == 0, r.Err);
        using (var doc = JsonDocument.Parse(r.Out))
        {
            Assert.Equal(200, doc.RootElement.GetProperty("entries").GetInt32());
            Assert.Equal(200, doc.RootElement.GetProperty("downloaded").GetInt32());
        }
        Assert.Equal(200, proxy.Count("GET"));
        Assert.Equal("object 137\n", File.ReadAllText(Path.Combine(_dir, ".cache", "s3pod", "objects", bucket, "small", "137.txt")));

        proxy.Reset();
        var again = await Run("asset", "prefill", "list.txt", "--json");
        Assert.Equal(0, again.Code);
        Assert.Empty(proxy.Requests());

        // Failures do not stop the others, and all of them are reported.
        File.AppendAllLines(Path.Combine(_dir, "list.txt"), [$"s3://{bucket}/missing-1", $"- s3://{bucket}/small/000.txt", $"s3://{bucket}/missing-2", "bad spec with spaces"]);
        var failing = await Run("asset", "prefill", "list.txt", "--json", "--ttl", "0s");
        Assert.Equal(ExitCodes.OperationalError, failing.Code); // mixed: not found and usage
        using (var doc = JsonDocument.Parse(failing.Out))
        {
            var failed = doc.RootElement.GetProperty("failed").EnumerateArray().ToList();
            Assert.Equal([$"s3://{bucket}/missing-1", $"s3://{bucket}/missing-2", "bad spec with spaces"], failed.Select(f => f.GetProperty("entry").GetString()));
            Assert.Equal([1, 1, 2], failed.Select(f => f.GetProperty("exitCode").GetInt32()));
            Assert.Equal(200, doc.RootElement.GetProperty("upToDate").GetInt32());
        }
        Assert.Contains("3 of 203 entries failed", failing.Err);
    }
}
