using S3Pod.Commands;

namespace S3Pod.UnitTests.Commands;

/// <summary>`s3pod __complete WORD...`: what the shell scripts print on TAB, from the command tree
/// and from the local artifact record cache and assets directory (no store is contacted).</summary>
public class CompletionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-complete-").FullName;
    private readonly Dictionary<string, string> _env = new();

    public CompletionTests()
    {
        _env["HOME"] = _dir;
        _env["S3POD_STORE"] = Path.Combine(_dir, "store");
        _env["S3POD_CACHE_DIR"] = Path.Combine(_dir, "cache");
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(n => _env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, _dir);
        var code = await app.RunAsync(args, default);
        return (code, stdout.ToString().Replace("\r", ""), stderr.ToString());
    }

    private async Task<string[]> Complete(params string[] words) =>
        (await Run(["__complete", .. words])).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Subcommands_ByPrefix()
    {
        Assert.Equal(["artifact", "asset"], await Complete("a"));
        Assert.Equal(["publish", "pull", "purge", "push"], (await Complete("artifact", "pu")).Order());
        Assert.DoesNotContain("__complete", await Complete(""));
    }

    [Fact]
    public async Task Options_OwnAndSettings_ByPrefix()
    {
        var options = await Complete("artifact", "push", "--");
        Assert.Contains("--scheme", options);
        Assert.Contains("--bucket", options);
        Assert.Contains("--json", options);
        Assert.Equal(["--bucket", "--bump", "--bump-major"], (await Complete("artifact", "push", "--bu")).Order());
    }

    [Fact]
    public async Task AfterAnOptionThatTakesAValue_NothingIsOffered()
    {
        Assert.Empty(await Complete("artifact", "push", "--scheme", ""));
    }

    [Fact]
    public async Task ArtifactNamesAndVersions_FromTheRecordCacheOfThisStore()
    {
        Assert.Equal(0, (await Run("artifact", "push", "web/app", WriteFile("a.txt", "one"))).Code);
        Assert.Equal(0, (await Run("artifact", "push", "web/app", WriteFile("a.txt", "two"), "--alias", "live")).Code);
        Assert.Equal(0, (await Run("artifact", "pull", "web/app:1", "-o", Path.Combine(_dir, "out1"))).Code);
        Assert.Equal(["web/app"], await Complete("artifact", "versions", "w"));
        var specs = await Complete("artifact", "pull", "web/app:");
        Assert.Contains("web/app:1", specs);
        Assert.Contains("web/app:2", specs);
        // Another store has its own records: nothing from this one.
        _env["S3POD_STORE"] = Path.Combine(_dir, "other-store");
        Assert.Empty(await Complete("artifact", "versions", "w"));
    }

    [Fact]
    public async Task AssetNamesAndVersions_FromTheAssetsDirectory()
    {
        var assets = Path.Combine(_dir, "cache", "assets");
        // A version is an entry with s3pod's record beside it; "notes" has none.
        var small = Path.Combine(assets, "models", "small");
        Directory.CreateDirectory(Path.Combine(small, "1.0.0"));
        File.WriteAllText(Path.Combine(small, ".1.0.0.s3pod.json"), "{}");
        File.WriteAllText(Path.Combine(small, "1.2.0"), "x");
        File.WriteAllText(Path.Combine(small, ".1.2.0.s3pod.json"), "{}");
        Directory.CreateDirectory(Path.Combine(small, "1.0.0", "inner"));
        Directory.CreateDirectory(Path.Combine(assets, "notes", "draft"));
        Directory.CreateDirectory(Path.Combine(assets, "_s3pod", "locks"));
        Assert.Equal(["models/small"], await Complete("asset", "path", "mo"));
        Assert.Equal(["models/small:1.2.0", "models/small:1.0.0"], await Complete("asset", "path", "models/small:"));
    }

    [Fact]
    public async Task CompletionScripts_ForEachShell_CallTheHiddenCommand()
    {
        foreach (var shell in CompletionCommand.Shells)
        {
            var (code, script, _) = await Run("completion", shell);
            Assert.Equal(0, code);
            Assert.Contains("__complete", script);
        }
        var (bad, stdout, stderr) = await Run("completion", "tcsh");
        Assert.Equal(ExitCodes.OperationalError, bad);
        Assert.Equal("", stdout);
        Assert.Contains("tcsh", stderr);
    }

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
