using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using S3Pod.IntegrationTests;

namespace S3Pod.NativeTests;

/// <summary>
/// The asset commands as processes against Ceph RGW: concurrent fetches of one object, a download
/// killed half-way, runs without credentials, and binary content on stdout. Requests are counted
/// (and slowed down, to catch a download in flight) by a proxy in front of the server.
/// </summary>
public sealed class AssetTests
{
    private static byte[] Data(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>A binary whose store and object cache go through <paramref name="proxy"/>, with one object uploaded.</summary>
    private static (Binary B, string Uri, string Path) Setup(RecordingProxy? proxy, byte[] content, string key = "models/weights.bin")
    {
        var b = new Binary();
        b.CreateBucket();
        b.WriteFile("content.bin", content);
        var up = b.Exec("upload", key, "content.bin");
        Assert.True(up.Code == 0, up.All);
        if (proxy is not null) b.Env["S3POD_ENDPOINT"] = proxy.Url;
        return (b, $"s3://{b.Bucket}/{key}", System.IO.Path.Combine(b.Home, ".cache", "s3pod", "objects", b.Bucket, key.Replace('/', System.IO.Path.DirectorySeparatorChar)));
    }

    [SkippableFact]
    public async Task TwoProcessesFetchingOneObject_DownloadItOnce()
    {
        Binary.SkipIfAbsent();
        // 12 MiB (one GET: ranged reads start above 16 MiB) at ~6 MB/s: both processes are in flight together.
        await using var proxy = new RecordingProxy(new Uri(Binary.Endpoint!), downBytesPerSecond: 6_000_000);
        var content = Data(12 << 20, 1);
        var (b, uri, path) = Setup(proxy, content);
        using var _ = b;
        proxy.Reset();
        using var first = b.Start("asset", "fetch", uri, "--ttl", "0s", "--json");
        using var second = b.Start("asset", "fetch", uri, "--ttl", "0s", "--json");
        var outputs = new[] { first, second }.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(1)) && second.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.True(first.ExitCode == 0, await outputs[0].Err);
        Assert.True(second.ExitCode == 0, await outputs[1].Err);
        var actions = new List<string>();
        foreach (var o in outputs)
        {
            using var doc = JsonDocument.Parse(await o.Out);
            Assert.Equal(path, Binary.Linux(doc.RootElement.GetProperty("path").GetString()!));
            actions.Add(doc.RootElement.GetProperty("action").GetString()!);
        }
        Assert.Equal(1, proxy.Count("GET"));
        // One downloaded; the other waited for its lock and took that copy: a check made after it was
        // asked for is as good as its own, so not even a HEAD (the download's own HEAD is the one).
        Assert.Equal(["download", "hit"], actions.Order());
        Assert.Equal(1, proxy.Count("HEAD"));
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(path)));
    }

    [SkippableFact]
    public async Task ADownloadKilledHalfWay_LeavesNothingAtThePath_AndTheNextRunCompletesIt()
    {
        Binary.SkipIfAbsent();
        await using var proxy = new RecordingProxy(new Uri(Binary.Endpoint!), downBytesPerSecond: 2_000_000);
        var content = Data(12 << 20, 2);
        var (b, uri, path) = Setup(proxy, content);
        using var _ = b;
        var dir = System.IO.Path.GetDirectoryName(path)!;
        using (var p = b.Start("asset", "fetch", uri))
        {
            // Kill it once a good part of the object is on disk, wherever the download writes it.
            var clock = Stopwatch.StartNew();
            long written = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(20) && written < 2 << 20)
            {
                await Task.Delay(50);
                written = Directory.Exists(dir) ? Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length) : 0;
            }
            Assert.True(written >= 2 << 20, "the download never started");
            p.Kill(); // SIGKILL: no handler runs
            p.WaitForExit();
        }
        Assert.False(File.Exists(path), "a half download is visible at the object's path");
        var ls = b.Exec("asset", "cache", "ls", "--json");
        using (var doc = JsonDocument.Parse(ls.Out)) Assert.Equal(0, doc.RootElement.GetProperty("objects").GetArrayLength());

        proxy.DownBytesPerSecond = null;
        var again = b.Exec("asset", "fetch", uri);
        Assert.True(again.Code == 0, again.All);
        Assert.Equal(path, again.Out.Trim());
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Empty(Directory.EnumerateFiles(dir, ".weights.bin.s3pod-*")); // the killed run's temp file is gone
    }

    [SkippableFact]
    public void WithoutCredentials_AStaleCopyIsServed_AndAMissIsOffline()
    {
        Binary.SkipIfAbsent();
        var (b, uri, path) = Setup(null, "{\"v\":1}"u8.ToArray(), "cfg.json");
        using var _ = b;
        Assert.Equal(0, b.Exec("asset", "fetch", uri).Code);
        // A fork's pull request: no secrets. The AWS chain finds nothing either (no instance metadata here).
        b.Env.Remove("S3POD_S3_KEY_ID");
        b.Env.Remove("S3POD_S3_SECRET");
        b.Env["AWS_EC2_METADATA_DISABLED"] = "true";
        b.Env["AWS_SHARED_CREDENTIALS_FILE"] = System.IO.Path.Combine(b.Root, "none");
        b.Env["AWS_CONFIG_FILE"] = System.IO.Path.Combine(b.Root, "none");
        var stale = b.Exec("asset", "path", uri, "--ttl", "0s");
        Assert.True(stale.Code == 0, stale.All);
        Assert.Equal(path, stale.Out.Trim());
        Assert.Contains("credentials", stale.Err);
        Assert.Contains("may be outdated", stale.Err);
        var miss = b.Exec("asset", "fetch", $"s3://{b.Bucket}/other.json");
        Assert.Equal(6, miss.Code);
        Assert.Single(miss.Err.Trim().Split('\n'));
    }

    [SkippableFact]
    public void Cat_WritesTheBytesExactly()
    {
        Binary.SkipIfAbsent();
        var content = Data(3 << 20, 3);
        var (b, uri, _) = Setup(null, content);
        using var _b = b;
        var psi = Binary.StartInfo(); // through the launcher (qemu-user) when there is one
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.Environment.Clear();
        foreach (var (k, v) in b.Env) psi.Environment[k] = v;
        foreach (var a in new[] { "asset", "cat", uri }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var ms = new MemoryStream();
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err.Result);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(ms.ToArray()));
    }

    [SkippableFact]
    public void AssetsDirectory_AndManifest_WorkWithNoStoreAndNoNetwork()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        var assets = System.IO.Path.Combine(b.Root, "assets");
        foreach (var v in new[] { "1.0", "1.9", "10.0" })
        {
            Directory.CreateDirectory(System.IO.Path.Combine(assets, "some", "dir", "asset", v));
            File.WriteAllText(System.IO.Path.Combine(assets, "some", "dir", "asset", v, "content0"), v);
        }
        b.Env["S3POD_ASSETS_DIR"] = assets;
        b.WriteFile("versioned_assets.json", "{\n    \"/some/dir/asset\": \"1.0\"\n}\n");
        var pinned = b.Exec("asset", "path", "/some/dir/asset[content0]");
        Assert.True(pinned.Code == 0, pinned.All);
        Assert.Equal("1.0", File.ReadAllText(pinned.Out.Trim()));
        Assert.Equal("1.9", File.ReadAllText(b.Exec("asset", "path", "some/dir/asset:1[content0]").Out.Trim()));
        var missing = b.Exec("asset", "path", "some/dir/asset:1.9[content9]");
        Assert.Equal(1, missing.Code);
        Assert.Contains("has no 'content9'", missing.Err);
    }
}
