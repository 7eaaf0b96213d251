using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using S3Pod.IntegrationTests;

namespace S3Pod.NativeTests;

/// <summary>
/// Assets backed by the artifact ledger, as processes against Ceph RGW: add/update and their version
/// rules, the manifest in both shapes, resolution with and without the store, sync, check, offline
/// fallbacks, concurrent updates and fetches, a killed download. Requests are counted by a proxy.
/// </summary>
public sealed class AssetLedgerTests
{
    private static JsonElement Json(Run r)
    {
        Assert.True(r.Code == 0, r.All);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    private static byte[] Data(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>A binary with a fresh bucket and its own assets directory.</summary>
    private static (Binary B, string Assets) Setup()
    {
        var b = new Binary();
        b.CreateBucket();
        var assets = Path.Combine(b.Root, "assets");
        b.Env["S3POD_ASSETS_DIR"] = assets;
        // s3rver (and Garage) ignore conditional writes: pushes then need the user's word.
        if (!Binary.ServerEnforces("create-only")) b.Env["S3POD_ASSUME_SINGLE_WRITER"] = "true";
        return (b, assets);
    }

    [SkippableFact]
    public void OnAServerWithoutConditionalWrites_AddIsRefusedUnlessOneWriterIsVouchedFor()
    {
        Binary.SkipIfAbsent();
        Skip.If(Binary.ServerEnforces("create-only"), "the server enforces conditional writes (run this suite against s3rver too)");
        var (b, _) = Setup();
        using var _b = b;
        b.Env.Remove("S3POD_ASSUME_SINGLE_WRITER");
        var file = b.WriteFile("a.csv", "a\n");
        var refused = b.Exec("asset", "add", "/a.csv", file);
        Assert.Equal(2, refused.Code);
        Assert.Contains("--assume-single-writer", refused.Err);
        Assert.False(File.Exists(Path.Combine(b.Work, "s3pod.assets.json")));
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/a.csv", file, "--assume-single-writer"));
        var path = b.Exec("asset", "path", "/a.csv");
        Assert.True(path.Code == 0, path.All);
        Assert.Equal("a\n", File.ReadAllText(path.Out.Trim()));
    }

    private static string Version(Binary b, params string[] args) => Json(b.Exec([.. args, "--json"])).GetProperty("version").GetString()!;

    [SkippableFact]
    public void AddAndUpdate_FollowTheStoresLatest_StrictlyIncreasing_WithMinVersion_AndWriteAStableManifest()
    {
        Binary.SkipIfAbsent();
        var (b, _) = Setup();
        using var _b = b;
        var one = b.WriteFile("bar-1.csv", "a,b\n1,2\n");
        var two = b.WriteFile("bar-2.csv", "a,b\n3,4\n");
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/foo/bar.csv", one));
        var again = b.Exec("asset", "add", "/foo/bar.csv", two);
        Assert.Equal(4, again.Code);
        Assert.Contains("already in the manifest", again.Err);
        Assert.Single(again.Err.Trim().Split('\n'));

        Assert.Equal("1.0.1", Version(b, "asset", "update", "/foo/bar.csv", two, "--patch"));
        Assert.Equal("1.1.0", Version(b, "asset", "update", "/foo/bar.csv", one, "--minor"));
        Assert.Equal("2.0.0", Version(b, "asset", "update", "/foo/bar.csv", two, "--major"));
        var notAbove = b.Exec("asset", "update", "/foo/bar.csv", one, "--version", "2.0.0");
        Assert.Equal(4, notAbove.Code);
        Assert.Equal(2, b.Exec("asset", "update", "/foo/bar.csv", one).Code); // no bump: what version?
        Assert.Equal(1, b.Exec("asset", "update", "/not/there.csv", one, "--patch").Code);
        Assert.Equal("3.4.5", Version(b, "asset", "update", "/foo/bar.csv", one, "--version", "3.4.5"));
        // baiji's documented rule: latest 3.4.5 with min 4 gives 4.0.0.
        Assert.Equal("4.0.0", Version(b, "asset", "update", "/foo/bar.csv", two, "--patch", "--min-version", "4"));
        Assert.Equal("5.0.0", Version(b, "asset", "update", "/foo/bar.csv", one, "--version", "5"));

        // The base is the store's latest, not this manifest: another checkout pinned at 1.0.0 still gets 5.0.1.
        var other = Path.Combine(b.Root, "other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "s3pod.assets.json"), "{\"assets\": {\"/foo/bar.csv\": \"1.0.0\"}}");
        var fromOther = b.ExecIn(other, null, "asset", "update", "/foo/bar.csv", two, "--patch", "--json");
        Assert.Equal("5.0.1", Json(fromOther).GetProperty("version").GetString());
        Assert.Equal("1.0.0", Json(fromOther).GetProperty("previous").GetString());

        // The manifest never moves backwards: one that already pins a higher version (written by a
        // concurrent update) keeps it; the pushed version is reported as not pinned.
        var ahead = Path.Combine(b.Root, "ahead");
        Directory.CreateDirectory(ahead);
        File.WriteAllText(Path.Combine(ahead, "s3pod.assets.json"), "{\"assets\": {\"/foo/bar.csv\": \"9.0.0\"}}");
        var behind = Json(b.ExecIn(ahead, null, "asset", "update", "/foo/bar.csv", one, "--patch", "--json"));
        Assert.Equal("5.0.2", behind.GetProperty("version").GetString());
        Assert.False(behind.GetProperty("pinned").GetBoolean());
        Assert.Contains("\"9.0.0\"", File.ReadAllText(Path.Combine(ahead, "s3pod.assets.json")));

        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(one)));
        Assert.Equal("{\n    \"assets\": {\n        \"/foo/bar.csv\": {\n            \"digest\": \"" + digest + "\",\n            \"version\": \"5.0.0\"\n        }\n    },\n    \"schema\": \"s3pod.assets/v1\"\n}\n",
            File.ReadAllText(Path.Combine(b.Work, "s3pod.assets.json")));

        var versions = Json(b.Exec("asset", "versions", "/foo/bar.csv", "--json"));
        Assert.Equal(["5.0.2", "5.0.1", "5.0.0", "4.0.0", "3.4.5", "2.0.0", "1.1.0", "1.0.1", "1.0.0"],
            versions.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        Assert.Equal("5.0.0", versions.GetProperty("pinned").GetString());
        Assert.True(versions.GetProperty("versions")[2].GetProperty("pinned").GetBoolean());
        // An asset is the artifact of the same name.
        Assert.Equal("5.0.2", Json(b.Exec("artifact", "versions", "foo/bar.csv", "--json")).GetProperty("latest").GetString());

        var remote = Json(b.Exec("asset", "ls-remote", "--json"));
        var entry = Assert.Single(remote.GetProperty("assets").EnumerateArray());
        Assert.Equal("foo/bar.csv", entry.GetProperty("name").GetString());
        Assert.Equal("5.0.2", entry.GetProperty("latest").GetString());
        Assert.Equal("5.0.0", entry.GetProperty("pinned").GetString());
    }

    [SkippableFact]
    public void ABaijiManifest_StaysFlat_AndItsPathsResolveThroughTheStore()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        var v125 = b.WriteFile("v125.csv", "old\n");
        var next = b.WriteFile("next.csv", "new\n");
        Assert.Equal(0, b.Exec("artifact", "push", "foo/bar.csv", v125, "--scheme", "semver", "--version", "1.2.5").Code);
        b.WriteFile("versioned_assets.json", "{\n    \"/foo/bar.csv\": \"1.2.5\",\n    \"/zz/local.json\": \"../fixtures/local.json\"\n}\n");
        b.WriteFile("../fixtures/local.json", "{}");
        var path = b.Exec("asset", "path", "/foo/bar.csv");
        Assert.True(path.Code == 0, path.All);
        Assert.Equal(Path.Combine(assets, "foo", "bar.csv", "1.2.5"), path.Out.Trim());
        Assert.Equal("old\n", File.ReadAllText(path.Out.Trim()));

        Assert.Equal("1.2.6", Version(b, "asset", "update", "/foo/bar.csv", next, "--patch"));
        Assert.Equal("{\n    \"/foo/bar.csv\": \"1.2.6\",\n    \"/zz/local.json\": \"../fixtures/local.json\"\n}\n",
            File.ReadAllText(Path.Combine(b.Work, "versioned_assets.json")));
        Assert.False(File.Exists(Path.Combine(b.Work, "s3pod.assets.json")));
        Assert.Equal("new\n", File.ReadAllText(b.Exec("asset", "path", "/foo/bar.csv").Out.Trim()));
    }

    [SkippableFact]
    public void ADirectoryAdded_IsMaterialisedAsADirectory_WithItsSubPaths()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        b.WriteFile("model/weights.bin", "w");
        b.WriteFile("model/conf/params.json", "{}");
        var added = Json(b.Exec("asset", "add", "models/clf", Path.Combine(b.Work, "model"), "--version", "0.1", "--json"));
        Assert.Equal("0.1.0", added.GetProperty("version").GetString());
        Assert.Equal("directory", added.GetProperty("kind").GetString());
        var path = b.Exec("asset", "path", "models/clf:0.1[conf/params.json]");
        Assert.True(path.Code == 0, path.All);
        Assert.Equal(Path.Combine(assets, "models", "clf", "0.1.0", "conf", "params.json"), path.Out.Trim());
        Assert.Equal("w", File.ReadAllText(Path.Combine(assets, "models", "clf", "0.1.0", "weights.bin")));
    }

    /// <summary>Pushes a directory asset some/dir/asset at 1.9.0, 1.10.0 and 10.0.0 (content0 holds the version).</summary>
    private static void PushVersions(Binary b)
    {
        foreach (var v in new[] { "1.9.0", "1.10.0", "10.0.0" })
        {
            b.WriteFile($"src-{v}/content0", v);
            b.WriteFile($"src-{v}/sub/deep.txt", "deep " + v);
            var r = b.Exec("artifact", "push", "some/dir/asset", Path.Combine(b.Work, $"src-{v}"), "--scheme", "semver", "--version", v);
            Assert.True(r.Code == 0, r.All);
        }
    }

    [SkippableFact]
    public void PartialVersions_AndSubPaths_ResolveWithTheStore_AndFromTheAssetsDirectoryWithout()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        PushVersions(b);
        string Read(Run r)
        {
            Assert.True(r.Code == 0, r.All);
            return File.ReadAllText(r.Out.Trim());
        }
        // With the store: 1 is the newest 1.* compared as numbers (1.10.0, never 10.0.0); modelkit's X.Y is the newest X.Y.*.
        Assert.Equal("1.10.0", Read(b.Exec("asset", "path", "some/dir/asset:1[content0]")));
        Assert.Equal("1.9.0", Read(b.Exec("asset", "path", "some/dir/asset:1.9[content0]")));
        Assert.Equal("deep 1.10.0", Read(b.Exec("asset", "path", "some/dir/asset:1[sub/deep.txt]")));
        Assert.True(Directory.Exists(Path.Combine(assets, "some", "dir", "asset", "1.10.0", "sub")));
        var missing = b.Exec("asset", "path", "some/dir/asset:1[nope]");
        Assert.Equal(1, missing.Code);
        Assert.Contains("has no 'nope'", missing.Err);
        var noSuch = b.Exec("asset", "path", "some/dir/asset:2");
        Assert.Equal(1, noSuch.Code);

        // Without a store: only what is present (1.9.0 and 1.10.0).
        b.Env.Remove("S3POD_BUCKET");
        Assert.Equal("1.10.0", Read(b.Exec("asset", "path", "some/dir/asset:1[content0]")));
        Assert.Equal("1.10.0", Read(b.Exec("asset", "path", "some/dir/asset[content0]")));
        Assert.Equal(1, b.Exec("asset", "path", "some/dir/asset:10").Code);
        b.Env["S3POD_BUCKET"] = b.Bucket;
        Assert.Equal("10.0.0", Read(b.Exec("asset", "path", "some/dir/asset[content0]"))); // latest asks the store
    }

    [SkippableFact]
    public async Task Sync_MaterialisesEveryEntry_ReportsEveryFailure_AndASecondSyncMakesNoRequest()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        PushVersions(b);
        var big = b.WriteFile("model.bin", Data(3 << 20, 7));
        Assert.Equal("1.0.0", Version(b, "asset", "add", "models/weights.bin", big));
        var manifest = Path.Combine(b.Work, "s3pod.assets.json");
        var text = File.ReadAllText(manifest).Replace("\"assets\": {", "\"assets\": {\n        \"/some/dir/asset\": \"1.9.0\",\n        \"tools/extra\": \"10.0.0\",");
        File.WriteAllText(manifest, text);
        if (Directory.Exists(assets)) Directory.Delete(assets, true);

        await using var proxy = new RecordingProxy(new Uri(Binary.Endpoint!));
        b.Env["S3POD_ENDPOINT"] = proxy.Url;
        var first = b.Exec("asset", "sync", "--json");
        Assert.Equal(1, first.Code); // tools/extra does not exist
        var doc = JsonDocument.Parse(first.Out).RootElement;
        Assert.Equal(manifest, doc.GetProperty("manifest").GetString());
        Assert.Equal(assets, doc.GetProperty("assetsDir").GetString());
        Assert.Equal(2, doc.GetProperty("downloaded").GetInt32());
        Assert.Equal(0, doc.GetProperty("present").GetInt32());
        var failed = Assert.Single(doc.GetProperty("failed").EnumerateArray());
        Assert.Equal("tools/extra", failed.GetProperty("path").GetString());
        Assert.Contains("tools/extra", failed.GetProperty("error").GetString());
        var entries = doc.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("path").GetString()!);
        var weights = entries["models/weights.bin"];
        Assert.Equal("1.0.0", weights.GetProperty("version").GetString());
        Assert.Equal(Path.Combine(assets, "models", "weights.bin", "1.0.0"), weights.GetProperty("local").GetString());
        Assert.True(weights.GetProperty("downloaded").GetBoolean());
        Assert.Equal(3 << 20, weights.GetProperty("size").GetInt64());
        Assert.StartsWith("sha256:", weights.GetProperty("digest").GetString());
        Assert.Equal("1.9.0", File.ReadAllText(Path.Combine(entries["/some/dir/asset"].GetProperty("local").GetString()!, "content0")));

        text = text.Replace("        \"tools/extra\": \"10.0.0\",\n", "");
        File.WriteAllText(manifest, text);
        proxy.Reset();
        var second = b.Exec("asset", "sync", "--json");
        doc = Json(second);
        Assert.Equal(0, doc.GetProperty("downloaded").GetInt32());
        Assert.Equal(2, doc.GetProperty("present").GetInt32());
        Assert.Empty(proxy.Requests()); // pinned and present: no request at all

        var human = b.Exec("asset", "sync");
        Assert.Equal(0, human.Code);
        Assert.Equal(3, human.Out.Trim().Split('\n').Length);
        Assert.Contains("sync: 0 downloaded, 2 present, 0 failed", human.Out);

        Assert.All(Json(b.Exec("asset", "ls", "--json")).GetProperty("assets").EnumerateArray(), a => Assert.True(a.GetProperty("present").GetBoolean()));

        // sync DIR fills that directory instead.
        var elsewhere = Path.Combine(b.Root, "elsewhere");
        doc = Json(b.Exec("asset", "sync", elsewhere, "--json"));
        Assert.Equal(elsewhere, doc.GetProperty("assetsDir").GetString());
        Assert.Equal(2, doc.GetProperty("downloaded").GetInt32());
        Assert.True(File.Exists(Path.Combine(elsewhere, "models", "weights.bin", "1.0.0")));

        // Offline with something missing: 6, and the present entries still listed.
        Directory.Delete(Path.Combine(assets, "models"), true);
        var listed = Json(b.Exec("asset", "ls", "--json")).GetProperty("assets").EnumerateArray().ToDictionary(a => a.GetProperty("key").GetString()!, a => a.GetProperty("present").GetBoolean());
        Assert.Equal(new Dictionary<string, bool> { ["/some/dir/asset"] = true, ["models/weights.bin"] = false }, listed);
        b.Env["S3POD_ENDPOINT"] = "http://127.0.0.1:9";
        var offline = b.Exec("asset", "sync", "--json");
        Assert.Equal(6, offline.Code);
        doc = JsonDocument.Parse(offline.Out).RootElement;
        Assert.Equal("models/weights.bin", Assert.Single(doc.GetProperty("failed").EnumerateArray()).GetProperty("path").GetString());
        Assert.Equal(1, doc.GetProperty("present").GetInt32());

        File.Delete(manifest);
        var none = b.Exec("asset", "sync", "--json");
        Assert.Equal(2, none.Code);
        Assert.Contains("no manifest", none.Err);
    }

    [SkippableFact]
    public void Check_FailsOnOverrides_MissingVersions_AndDigestMismatches()
    {
        Binary.SkipIfAbsent();
        var (b, _) = Setup();
        using var _b = b;
        var file = b.WriteFile("a.csv", "a\n");
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/data/a.csv", file));
        var ok = Json(b.Exec("asset", "check", "--json"));
        Assert.True(ok.GetProperty("ok").GetBoolean());
        Assert.Equal(0, ok.GetProperty("problems").GetArrayLength());

        var manifest = Path.Combine(b.Work, "s3pod.assets.json");
        var good = File.ReadAllText(manifest);
        var wrongDigest = "sha256:" + new string('0', 64);
        File.WriteAllText(manifest, "{\"assets\": {\"/data/a.csv\": {\"version\": \"1.0.0\", \"digest\": \"" + wrongDigest + "\"}, \"/data/b.csv\": \"2.0.0\", \"/data/c.csv\": \"./c.csv\", \"/data/d.csv\": \"1.0\"}}");
        var bad = b.Exec("asset", "check", "--json");
        Assert.Equal(1, bad.Code);
        var doc = JsonDocument.Parse(bad.Out).RootElement;
        Assert.False(doc.GetProperty("ok").GetBoolean());
        Assert.Equal(manifest, doc.GetProperty("manifest").GetString());
        var problems = doc.GetProperty("problems").EnumerateArray().ToDictionary(p => p.GetProperty("path").GetString()!, p => p.GetProperty("problem").GetString());
        Assert.Equal(new Dictionary<string, string?>
        {
            ["/data/a.csv"] = "digest-mismatch",
            ["/data/b.csv"] = "missing",
            ["/data/c.csv"] = "override",
            ["/data/d.csv"] = "missing",
        }, problems);
        Assert.All(doc.GetProperty("problems").EnumerateArray(), p => Assert.False(string.IsNullOrEmpty(p.GetProperty("detail").GetString())));
        // The pinned digest is checked before anything is downloaded.
        var wrong = b.Exec("asset", "path", "/data/a.csv");
        Assert.Equal(5, wrong.Code);
        Assert.Contains(wrongDigest, wrong.Err);
        Assert.False(Directory.Exists(Path.Combine(b.Root, "assets", "data", "a.csv")));

        // No store: overrides only, and it says so.
        b.Env.Remove("S3POD_BUCKET");
        File.WriteAllText(manifest, good.Replace("1.0.0", "9.9.9"));
        var local = b.Exec("asset", "check");
        Assert.True(local.Code == 0, local.All);
        Assert.Contains("overrides only", local.Out);
        Assert.Contains("no artifact store", local.Err);
        b.Env["S3POD_BUCKET"] = b.Bucket;
        Assert.Equal(1, b.Exec("asset", "check").Code);
    }

    [SkippableFact]
    public void Offline_PinnedPresentIsServed_UnpinnedFallsBackWithAWarning_AbsentIsExit6()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        PushVersions(b);
        Assert.Equal(0, b.Exec("asset", "path", "some/dir/asset:1.9.0").Code);
        b.Env["S3POD_ENDPOINT"] = "http://127.0.0.1:9"; // nothing listens
        var pinned = b.Exec("asset", "path", "some/dir/asset:1.9.0");
        Assert.True(pinned.Code == 0, pinned.All);
        Assert.Equal("", pinned.Err);
        var unpinned = b.Exec("asset", "path", "some/dir/asset:1");
        Assert.True(unpinned.Code == 0, unpinned.All);
        Assert.Equal(Path.Combine(assets, "some", "dir", "asset", "1.9.0"), unpinned.Out.Trim());
        Assert.Contains("a newer version may exist", unpinned.Err);
        Assert.Equal(6, b.Exec("asset", "path", "some/dir/asset:1", "--strict").Code);
        var absent = b.Exec("asset", "path", "some/dir/asset:10.0.0");
        Assert.Equal(6, absent.Code);
        Assert.Single(absent.Err.Trim().Split('\n'));
        Assert.Equal(6, b.Exec("asset", "path", "some/dir/asset:10").Code);
    }

    [SkippableFact]
    public void EnvironmentOverrides_NameAFileOrAVersion()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        PushVersions(b);
        b.WriteFile("s3pod.assets.json", "{\"assets\": {\"/some/dir/asset\": \"1.9.0\"}}");
        var local = b.WriteFile("dev/content0", "dev");
        b.Env["S3POD_ASSET_SOME_DIR_ASSET_FILE"] = Path.GetDirectoryName(local)!;
        var r = b.Exec("asset", "path", "/some/dir/asset[content0]");
        Assert.True(r.Code == 0, r.All);
        Assert.Equal(local, r.Out.Trim());
        var check = b.Exec("asset", "check");
        Assert.Equal(0, check.Code); // not committed: a warning, not a failure
        Assert.Contains("S3POD_ASSET_SOME_DIR_ASSET_FILE", check.Err);
        b.Env.Remove("S3POD_ASSET_SOME_DIR_ASSET_FILE");
        b.Env["S3POD_ASSET_SOME_DIR_ASSET_VERSION"] = "10.0.0";
        Assert.Equal("10.0.0", File.ReadAllText(b.Exec("asset", "path", "/some/dir/asset[content0]").Out.Trim()));
        b.Env.Remove("S3POD_ASSET_SOME_DIR_ASSET_VERSION");
        Assert.Equal("1.9.0", File.ReadAllText(b.Exec("asset", "path", "/some/dir/asset[content0]").Out.Trim()));
        Assert.False(Directory.Exists(Path.Combine(assets, "some", "dir", "asset", "1.10.0")));
    }

    [SkippableFact]
    public void SyncPrune_RemovesTheVersionsTheManifestNoLongerPins_OnlyWhenEverythingSynced()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/data/table.csv", b.WriteFile("t1.csv", "one\n")));
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/data/other.csv", b.WriteFile("o1.csv", "other\n")));
        Assert.Equal(0, b.Exec("asset", "sync").Code);
        Assert.Equal("1.0.1", Version(b, "asset", "update", "/data/table.csv", b.WriteFile("t2.csv", "two\n"), "--patch"));
        // A version placed by hand for an asset the manifest does not name stays.
        var stranger = Path.Combine(assets, "not", "listed", "2.0.0");
        Directory.CreateDirectory(Path.GetDirectoryName(stranger)!);
        File.WriteAllText(stranger, "mine");

        // Without --prune the old version stays.
        var plain = Json(b.Exec("asset", "sync", "--json"));
        Assert.Empty(plain.GetProperty("pruned").EnumerateArray());
        Assert.True(File.Exists(Path.Combine(assets, "data", "table.csv", "1.0.0")));

        // A failing entry: nothing is pruned (the old version may be all an offline run has).
        var manifest = Path.Combine(b.Work, "s3pod.assets.json");
        var good = File.ReadAllText(manifest);
        File.WriteAllText(manifest, good.Replace("\"assets\": {", "\"assets\": {\n        \"/data/missing.csv\": \"9.9.9\","));
        var failing = b.Exec("asset", "sync", "--prune", "--json");
        Assert.Equal(1, failing.Code);
        Assert.Empty(JsonDocument.Parse(failing.Out).RootElement.GetProperty("pruned").EnumerateArray());
        Assert.True(File.Exists(Path.Combine(assets, "data", "table.csv", "1.0.0")));

        File.WriteAllText(manifest, good);
        var pruned = Json(b.Exec("asset", "sync", "--prune", "--json"));
        Assert.Equal(["data/table.csv:1.0.0"], pruned.GetProperty("pruned").EnumerateArray().Select(e => e.GetString()));
        Assert.False(File.Exists(Path.Combine(assets, "data", "table.csv", "1.0.0")));
        Assert.False(File.Exists(Path.Combine(assets, "data", "table.csv", ".1.0.0.s3pod.json")));
        Assert.Equal("two\n", File.ReadAllText(Path.Combine(assets, "data", "table.csv", "1.0.1")));
        Assert.Equal("other\n", File.ReadAllText(Path.Combine(assets, "data", "other.csv", "1.0.0")));
        Assert.Equal("mine", File.ReadAllText(stranger));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(assets, "data", "table.csv"), ".1.0.0.s3pod-*"));
    }

    [SkippableFact]
    public async Task TwoConcurrentUpdates_GetDistinctVersions_AndTheManifestPinsTheHigher()
    {
        Binary.SkipIfAbsent();
        Skip.IfNot(Binary.ServerEnforces("create-only"), "the server does not enforce create-only writes");
        var (b, _) = Setup();
        using var _b = b;
        var one = b.WriteFile("one.csv", "1\n");
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/x.csv", one));
        var files = Enumerable.Range(0, 4).Select(i => b.WriteFile($"u{i}.csv", $"u{i}\n")).ToList();
        var procs = files.Select(f => b.Start("asset", "update", "/x.csv", f, "--patch", "--json")).ToList();
        var outs = procs.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
        var versions = new List<string>();
        for (int i = 0; i < procs.Count; i++)
        {
            Assert.True(procs[i].WaitForExit(TimeSpan.FromMinutes(2)));
            Assert.True(procs[i].ExitCode == 0, await outs[i].Err);
            versions.Add(JsonDocument.Parse(await outs[i].Out).RootElement.GetProperty("version").GetString()!);
        }
        Assert.Equal(["1.0.1", "1.0.2", "1.0.3", "1.0.4"], versions.Order());
        Assert.Contains("\"1.0.4\"", File.ReadAllText(Path.Combine(b.Work, "s3pod.assets.json")));
        // Each version holds the content of the update that got it.
        foreach (var (f, v) in files.Zip(versions))
            Assert.Equal(File.ReadAllText(f), File.ReadAllText(b.Exec("asset", "path", $"x.csv:{v}").Out.Trim()));
    }

    /// <summary>
    /// Issue 16, defect 3: a pushed directory with links out of itself. Before the fix
    /// <c>asset cat 'fx/dir:1.0.0[evil]'</c> printed /etc/passwd with exit 0, and a dangling link was
    /// "internal error: FileNotFoundException". A sub-path resolves inside the tree or is exit 1.
    /// </summary>
    [SkippableFact]
    public void SubPathsOfADirectoryAsset_StayInsideIt_AndADanglingLinkIsAClearNotFound()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("Linux symlinks (Wine shows one as what it points to, so the pushed tree's 'up -> ..' becomes an endless directory); a Windows tree has no such links");
        var (b, _) = Setup();
        using var _b = b;
        var src = Path.Combine(b.Work, "dir");
        b.WriteFile("dir/sub/real.txt", "inside\n");
        File.CreateSymbolicLink(Path.Combine(src, "evil"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(src, "up"), "..");
        File.CreateSymbolicLink(Path.Combine(src, "dangling"), "sub/nothing.txt");
        File.CreateSymbolicLink(Path.Combine(src, "ok"), "sub/real.txt");
        File.CreateSymbolicLink(Path.Combine(src, "subdir"), "sub");
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/fx/dir", src));

        Assert.Equal("inside\n", b.Exec("asset", "cat", "fx/dir:1.0.0[ok]").Out);
        Assert.Equal("inside\n", b.Exec("asset", "cat", "fx/dir:1.0.0[subdir/real.txt]").Out);
        foreach (var (sub, says) in new[] { ("evil", "outside"), ("up/dir/evil", "outside"), ("dangling", "dangling") })
        {
            foreach (var command in new[] { new[] { "asset", "cat" }, ["asset", "path"], ["artifact", "path"] })
            {
                var run = b.Exec([.. command, $"fx/dir:1.0.0[{sub}]"]);
                Assert.True(run.Code == 1, $"{string.Join(' ', command)} [{sub}]: exit {run.Code}\n{run.Out}{run.Err}");
                Assert.DoesNotContain("root:", run.Out);
                Assert.DoesNotContain("internal error", run.Err);
                Assert.Contains(says, run.Err);
                Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            }
        }
    }

    /// <summary>
    /// Issue 16, defect 2: processes with different HOME, cache and assets directories (two CI jobs in
    /// one checkout) adding and updating different entries of one manifest at once. With the lock in
    /// the assets directory they did not exclude each other, and 1-2 of 4-6 rounds lost an entry or a
    /// pin. Every entry must be there, every update pinned.
    /// </summary>
    [SkippableFact]
    public async Task ConcurrentAddsAndUpdates_FromProcessesWithDifferentDirectories_KeepEveryEntryAndPin()
    {
        Binary.SkipIfAbsent();
        var (b, _) = Setup();
        using var _b = b;
        const int Processes = 8;
        var manifestPath = Path.Combine(b.Work, "s3pod.assets.json");
        var problems = new List<string>();
        for (int round = 0; round < 6; round++)
        {
            // Half the processes add a new entry, half update one added before this round.
            if (round == 0)
                for (int i = 0; i < Processes / 2; i++)
                    Assert.Equal("1.0.0", Version(b, "asset", "add", $"/u{i}.csv", b.WriteFile($"u{i}.csv", "0\n")));
            var procs = new List<(System.Diagnostics.Process P, Task<string> Err)>();
            for (int i = 0; i < Processes; i++)
            {
                var own = Directory.CreateDirectory(Path.Combine(b.Root, $"p{round}-{i}")).FullName;
                b.Env["HOME"] = Path.Combine(own, "home");
                b.Env["S3POD_CACHE_DIR"] = Path.Combine(own, "cache");
                b.Env["S3POD_ASSETS_DIR"] = Path.Combine(own, "assets");
                var p = i % 2 == 0
                    ? b.Start("asset", "add", $"/a{round}-{i}.csv", b.WriteFile($"a{round}-{i}.csv", $"{round}\n"))
                    : b.Start("asset", "update", $"/u{i / 2}.csv", b.WriteFile($"u{i / 2}-{round}.csv", $"{round}\n"), "--patch");
                procs.Add((p, p.StandardError.ReadToEndAsync()));
            }
            foreach (var (p, err) in procs)
            {
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)));
                if (p.ExitCode != 0) problems.Add($"round {round}: exit {p.ExitCode}: {await err}");
            }
            var manifest = JsonDocument.Parse(File.ReadAllText(manifestPath)).RootElement.GetProperty("assets");
            string? Pin(string key) => manifest.TryGetProperty(key, out var e) ? (e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetProperty("version").GetString()) : null;
            for (int i = 0; i < Processes; i += 2)
                if (Pin($"/a{round}-{i}.csv") is null) problems.Add($"round {round}: the entry /a{round}-{i}.csv was dropped");
            for (int i = 0; i < Processes / 2; i++)
                if (Pin($"/u{i}.csv") != $"1.0.{round + 1}") problems.Add($"round {round}: /u{i}.csv pins {Pin($"/u{i}.csv")}, not 1.0.{round + 1}");
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>
    /// Issue 16, defect 6: a SIGKILLed <c>asset get</c>, <c>artifact pull</c> or <c>download</c> left
    /// <c>.NAME.s3pod-&lt;id&gt;</c> (the size written so far) beside the destination for good; three
    /// kills left 390 MB. The next write to the same place removes them (no live process holds them).
    /// </summary>
    [SkippableFact]
    public async Task KilledDownloads_LeaveTempFiles_ThatTheNextWriteToThatPlaceRemoves()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        var content = Data(12 << 20, 7);
        var source = b.WriteFile("big.bin", content);
        Assert.Equal("1.0.0", Version(b, "asset", "add", "/models/big.bin", source));
        Assert.Equal(0, b.Exec("upload", "raw/big.bin", source).Code);
        await using var proxy = new RecordingProxy(new Uri(Binary.Endpoint!), downBytesPerSecond: 2_000_000);
        b.Env["S3POD_ENDPOINT"] = proxy.Url;
        var commands = new (string[] Args, string Dest)[]
        {
            (["asset", "get", "models/big.bin:1.0.0", "got.bin"], "got.bin"),
            (["artifact", "pull", "models/big.bin:1.0.0", "-o", "pulled.bin"], "pulled.bin"),
            (["download", "raw/big.bin", "downloaded.bin"], "downloaded.bin"),
        };
        foreach (var (args, dest) in commands)
        {
            var cmd = string.Join(' ', args[..2]);
            // asset get downloads into the assets directory first, then copies: its temp files are in either place.
            var temps = () => Directory.EnumerateFiles(b.Work, $".{dest}.s3pod-*")
                .Concat(Directory.Exists(assets) ? Directory.EnumerateFiles(assets, ".*.s3pod-*", SearchOption.AllDirectories) : []).ToList();
            for (int kill = 0; kill < 2; kill++)
            {
                using var p = b.Start(args);
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(20) && temps().Sum(f => new FileInfo(f).Length) < (kill + 1) * (1 << 20)) await Task.Delay(50);
                p.Kill();
                p.WaitForExit();
            }
            var left = temps();
            Assert.True(left.Count >= 1, $"{cmd}: the killed runs left no temp file (killed too late?)");
            // As if the kills were minutes ago: a younger unlocked temp could be a writer about to rename it.
            foreach (var t in left) File.SetLastWriteTimeUtc(t, DateTime.UtcNow - TimeSpan.FromMinutes(5));
            proxy.DownBytesPerSecond = null;
            var done = b.Exec(args);
            Assert.True(done.Code == 0, $"{cmd}: {done.All}");
            Assert.Equal(content, File.ReadAllBytes(Path.Combine(b.Work, dest)));
            Assert.Empty(temps());
            proxy.DownBytesPerSecond = 2_000_000;
        }
    }

    [SkippableFact]
    public async Task TwoProcessesFetchingOneAsset_DownloadItOnce_AndAKilledDownloadLeavesNothing()
    {
        Binary.SkipIfAbsent();
        var (b, assets) = Setup();
        using var _b = b;
        var content = Data(12 << 20, 3);
        Assert.Equal("1.0.0", Version(b, "asset", "add", "models/big.bin", b.WriteFile("big.bin", content)));
        if (Directory.Exists(assets)) Directory.Delete(assets, true); // add only pushes: the manifest lock lives beside the manifest
        var final = Path.Combine(assets, "models", "big.bin", "1.0.0");
        await using var proxy = new RecordingProxy(new Uri(Binary.Endpoint!), downBytesPerSecond: 2_000_000);
        b.Env["S3POD_ENDPOINT"] = proxy.Url;

        using (var p = b.Start("asset", "path", "/models/big.bin"))
        {
            var dir = Path.GetDirectoryName(final)!;
            var clock = Stopwatch.StartNew();
            long written = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(20) && written < 2 << 20)
            {
                await Task.Delay(50);
                written = Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
            }
            Assert.True(written >= 2 << 20, "the download never started");
            p.Kill();
            p.WaitForExit();
        }
        Assert.False(File.Exists(final), "a half download is visible at the version's path");
        proxy.DownBytesPerSecond = null;
        var again = b.Exec("asset", "path", "models/big.bin:1.0.0");
        Assert.True(again.Code == 0, again.All);
        Assert.Equal(final, again.Out.Trim());
        // The killed run's temp files are gone: only the version and its record remain.
        Assert.Equal(["." + "1.0.0.s3pod.json", "1.0.0"], Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(final)!).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        Directory.Delete(Path.Combine(assets, "models"), true);
        proxy.DownBytesPerSecond = 6_000_000;
        proxy.Reset();
        using var first = b.Start("asset", "path", "/models/big.bin", "--json");
        using var second = b.Start("asset", "path", "/models/big.bin", "--json");
        var outputs = new[] { first, second }.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(1)) && second.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.True(first.ExitCode == 0, await outputs[0].Err);
        Assert.True(second.ExitCode == 0, await outputs[1].Err);
        var actions = new List<string>();
        foreach (var o in outputs)
        {
            var doc = JsonDocument.Parse(await o.Out).RootElement;
            Assert.Equal(final, Binary.Linux(doc.GetProperty("path").GetString()!));
            actions.Add(doc.GetProperty("action").GetString()!);
        }
        Assert.Equal(["download", "local"], actions.Order());
        Assert.Equal(1, proxy.Count("GET", "/blobs/"));
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(final)));
    }
}
