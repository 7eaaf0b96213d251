using System.Diagnostics;
using System.Text.Json;
using S3Pod.Commands;

namespace S3Pod.UnitTests.Assets;

/// <summary>
/// Resolution with no store at all, through the real CLI in-process: the assets directory alone,
/// the manifest (both shapes), overrides, sub-paths, pinned digests, and a read-only assets directory.
/// No bucket or endpoint is configured and nothing listens anywhere: any network use would fail.
/// </summary>
public class AssetResolutionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-assets-").FullName;
    private readonly Dictionary<string, string> _env = new();
    private string AssetsDir => Path.Combine(_dir, "assets");

    public AssetResolutionTests()
    {
        _env["HOME"] = _dir;
        _env["S3POD_ASSETS_DIR"] = AssetsDir;
        // Were any code path to reach for S3, it would find nothing listening.
        _env["S3POD_ENDPOINT"] = "http://127.0.0.1:9";
        _env["S3POD_S3_KEY_ID"] = "id";
        _env["S3POD_S3_SECRET"] = "secret";
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(n => _env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, _dir);
        var code = await app.RunAsync(args, default);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string PlaceFile(string name, string version, string content)
    {
        var path = Path.Combine([AssetsDir, .. name.Split('/'), version]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private string PlaceDirectory(string name, string version, params string[] files)
    {
        var path = Path.Combine([AssetsDir, .. name.Split('/'), version]);
        foreach (var f in files)
        {
            var p = Path.Combine(path, f);
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllText(p, f);
        }
        Directory.CreateDirectory(path);
        return path;
    }

    private async Task<string> PathOf(params string[] args)
    {
        var r = await Run(["asset", "path", .. args]);
        Assert.True(r.Code == 0, r.Err);
        return r.Out.TrimEnd('\n');
    }

    [Fact]
    public async Task PartialVersion_ResolvesToNewestWholeNumberMatch_NeverTenDotX()
    {
        foreach (var v in new[] { "1.0", "1.2", "1.10", "10.0", "123.4", "2.0" }) PlaceFile("some/asset", v, v);
        Assert.Equal(Path.Combine(AssetsDir, "some", "asset", "1.10"), await PathOf("some/asset:1"));
        Assert.Equal(Path.Combine(AssetsDir, "some", "asset", "123.4"), await PathOf("some/asset"));
        Assert.Equal(Path.Combine(AssetsDir, "some", "asset", "123.4"), await PathOf("some/asset:latest"));
        Assert.Equal(Path.Combine(AssetsDir, "some", "asset", "1.2"), await PathOf("some/asset:1.2"));
        var none = await Run("asset", "path", "some/asset:3");
        Assert.Equal(ExitCodes.NotFound, none.Code);
        Assert.Contains("no version 3 or 3.*", none.Err);
        Assert.Contains("newest present: 123.4, 10.0, 2.0", none.Err);
        Assert.Contains("no artifact store is configured", none.Err);
    }

    [Fact]
    public async Task SubPath_OfADirectoryAsset_AndAMissingOneIsReportedAsSuch()
    {
        var dir = PlaceDirectory("some/dir/asset", "0.1", "content0", "sub/deep.json");
        Assert.Equal(Path.Combine(dir, "content0"), await PathOf("some/dir/asset:0.1[content0]"));
        Assert.Equal(Path.Combine(dir, "sub", "deep.json"), await PathOf("some/dir/asset:0[sub/deep.json]"));
        var missing = await Run("asset", "path", "some/dir/asset:0.1[content1]");
        Assert.Equal(ExitCodes.NotFound, missing.Code);
        Assert.Contains("some/dir/asset:0.1 has no 'content1'", missing.Err);
        Assert.Single(missing.Err.Trim().Split('\n'));

        PlaceFile("some/file", "1.0", "x");
        var onFile = await Run("asset", "path", "some/file:1.0[x]");
        Assert.Equal(ExitCodes.OperationalError, onFile.Code);
        Assert.Contains("is a file asset", onFile.Err);
    }

    [Fact]
    public async Task MissingVersionAndAliases_WithoutAStore_AreClearErrors()
    {
        PlaceFile("m/x", "1.0", "a");
        var missing = await Run("asset", "path", "m/x:1.1");
        Assert.Equal(ExitCodes.NotFound, missing.Code);
        Assert.Contains("has no version 1.1", missing.Err);
        var alias = await Run("asset", "path", "m/x:prod");
        Assert.Equal(ExitCodes.OperationalError, alias.Code);
        Assert.Contains("needs the artifact store", alias.Err);
        var unknown = await Run("asset", "path", "m/nothing");
        Assert.Equal(ExitCodes.NotFound, unknown.Code);
    }

    [Fact]
    public async Task BaijiManifest_ResolvesManifestPaths_AndIsFoundByItsOwnName()
    {
        PlaceFile("foo/bar.csv", "1.2.5", "pinned");
        PlaceFile("foo/bar.csv", "1.3.0", "newer");
        File.WriteAllText(Path.Combine(_dir, "versioned_assets.json"), "{\n    \"/foo/bar.csv\": \"1.2.5\"\n}");
        Assert.Equal(Path.Combine(AssetsDir, "foo", "bar.csv", "1.2.5"), await PathOf("/foo/bar.csv"));
        // The manifest pins the name whichever way it is written; an explicit version wins.
        Assert.EndsWith("1.2.5", await PathOf("foo/bar.csv"));
        Assert.EndsWith("1.3.0", await PathOf("/foo/bar.csv:1.3.0"));
        var absent = await Run("asset", "path", "/foo/other.csv");
        Assert.Equal(ExitCodes.NotFound, absent.Code);
        Assert.Contains("is not in the manifest", absent.Err);

        var ls = await Run("asset", "ls", "--json");
        Assert.Equal(0, ls.Code);
        using var doc = JsonDocument.Parse(ls.Out);
        Assert.Equal("baiji", doc.RootElement.GetProperty("format").GetString());
        var entry = doc.RootElement.GetProperty("assets")[0];
        Assert.Equal("/foo/bar.csv", entry.GetProperty("key").GetString());
        Assert.True(entry.GetProperty("present").GetBoolean());
    }

    [Fact]
    public async Task Overrides_FromTheManifestAndTheEnvironment_InOrder_AndCheckFailsOnManifestOverrides()
    {
        PlaceFile("models/clf", "1.0", "pinned");
        PlaceFile("models/clf", "2.0", "forced");
        File.WriteAllText(Path.Combine(_dir, "dev.bin"), "local");
        Directory.CreateDirectory(Path.Combine(_dir, "cfg"));
        File.WriteAllText(Path.Combine(_dir, "cfg", "s3pod.assets.json"), """
            {"assets": {"models/clf": "1.0", "dev/thing": "../dev.bin"}}
            """);
        _env["S3POD_MANIFEST"] = Path.Combine(_dir, "cfg", "s3pod.assets.json");

        Assert.EndsWith("1.0", await PathOf("models/clf"));
        // The manifest's relative override is relative to the manifest, not the working directory.
        Assert.Equal(Path.Combine(_dir, "dev.bin"), await PathOf("dev/thing"));

        _env["S3POD_ASSET_MODELS_CLF_VERSION"] = "2.0";
        Assert.EndsWith("2.0", await PathOf("models/clf"));
        _env["S3POD_ASSET_MODELS_CLF_FILE"] = "dev.bin";
        var overridden = await Run("asset", "path", "models/clf", "--json");
        using (var doc = JsonDocument.Parse(overridden.Out))
        {
            Assert.Equal(Path.Combine(_dir, "dev.bin"), doc.RootElement.GetProperty("path").GetString());
            Assert.Equal("override", doc.RootElement.GetProperty("action").GetString());
            Assert.Equal("S3POD_ASSET_MODELS_CLF_FILE", doc.RootElement.GetProperty("overriddenBy").GetString());
        }
        Assert.Contains("S3POD_ASSET_MODELS_CLF_FILE", overridden.Err); // never silent

        var check = await Run("asset", "check", "--json");
        Assert.Equal(ExitCodes.NotFound, check.Code);
        using (var doc = JsonDocument.Parse(check.Out))
        {
            Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
            var problem = Assert.Single(doc.RootElement.GetProperty("problems").EnumerateArray());
            Assert.Equal("dev/thing", problem.GetProperty("name").GetString());
            // The two env overrides, and that pins were not checked against a store (there is none).
            var warnings = doc.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
            Assert.Equal(3, warnings.Count);
            Assert.Contains(warnings, w => w.StartsWith("no artifact store is configured", StringComparison.Ordinal));
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("store").ValueKind);
        }
        File.WriteAllText(_env["S3POD_MANIFEST"], """{"assets": {"models/clf": "1.0"}}""");
        Assert.Equal(0, (await Run("asset", "check")).Code);
    }

    private static string Pin(string digest) => "{\"assets\": {\"m/data\": {\"version\": \"1.0\", \"digest\": \"" + digest + "\"}}}";

    [Fact]
    public async Task PinnedDigest_IsCheckedAgainstTheLocalFile_AndRemembered()
    {
        var path = PlaceFile("m/data", "1.0", "the content");
        var good = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("the content"u8));
        File.WriteAllText(Path.Combine(_dir, "s3pod.assets.json"), Pin(good));
        Assert.Equal(path, await PathOf("m/data"));
        Assert.True(File.Exists(Path.Combine(AssetsDir, "m", "data", ".1.0.s3pod.json"))); // verified once, remembered

        File.WriteAllText(Path.Combine(_dir, "s3pod.assets.json"), Pin("sha256:" + new string('0', 64)));
        var bad = await Run("asset", "path", "m/data");
        Assert.Equal(ExitCodes.Integrity, bad.Code);
        Assert.Contains("is pinned", bad.Err);
    }

    [Fact]
    public async Task ManifestOfAnotherShapeOrBroken_IsAUsageError_NamingIt()
    {
        File.WriteAllText(Path.Combine(_dir, "s3pod.assets.json"), "{\"a\": 3}");
        var r = await Run("asset", "ls");
        Assert.Equal(ExitCodes.OperationalError, r.Code);
        Assert.Contains("s3pod.assets.json", r.Err);
        File.Delete(Path.Combine(_dir, "s3pod.assets.json"));
        var none = await Run("asset", "ls");
        Assert.Equal(ExitCodes.NotFound, none.Code);
        Assert.Contains("no manifest at", none.Err);
    }

    [Fact]
    public async Task Get_CopiesFilesAndDirectories()
    {
        PlaceFile("m/f", "1.0", "file content");
        PlaceDirectory("m/d", "2.0", "a.txt", "b/c.txt");
        Assert.Equal(0, (await Run("asset", "get", "m/f:1", "out/f.txt")).Code);
        Assert.Equal("file content", File.ReadAllText(Path.Combine(_dir, "out", "f.txt")));
        Assert.Equal(0, (await Run("asset", "get", "m/d", "out/d")).Code);
        Assert.Equal("b/c.txt", File.ReadAllText(Path.Combine(_dir, "out", "d", "b", "c.txt")));
        Assert.Equal(ExitCodes.OperationalError, (await Run("asset", "get", "m/d", "out/d")).Code); // exists: refused, untouched
    }

    [SkippableFact]
    public async Task ReadOnlyAssetsDirectory_ServesWhatIsPresent()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Environment.UserName == "root", "needs root on Linux for a read-only bind mount");
        PlaceFile("m/x", "1.0", "a");
        PlaceDirectory("m/d", "0.1", "inner");
        var readOnly = Path.Combine(_dir, "ro");
        Directory.CreateDirectory(readOnly);
        Skip.IfNot(Sh($"mount --bind '{AssetsDir}' '{readOnly}' && mount -o remount,bind,ro '{readOnly}'"), "mount refused (no CAP_SYS_ADMIN in this container)");
        try
        {
            _env["S3POD_ASSETS_DIR"] = readOnly;
            Assert.Equal(Path.Combine(readOnly, "m", "x", "1.0"), await PathOf("m/x:1"));
            Assert.Equal(Path.Combine(readOnly, "m", "d", "0.1", "inner"), await PathOf("m/d[inner]"));
            Assert.False(File.Exists(Path.Combine(AssetsDir, "_s3pod")) || Directory.Exists(Path.Combine(AssetsDir, "_s3pod"))); // no lock was needed
        }
        finally
        {
            Sh($"umount '{readOnly}'");
        }
    }

    private static bool Sh(string script)
    {
        using var p = Process.Start(new ProcessStartInfo("sh", ["-c", script]) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}
