using System.Text.Json;
using S3Pod.Commands;

namespace S3Pod.UnitTests.Artifacts;

/// <summary><c>s3pod artifact</c> through the real parser, in-process, on the local store: exit codes, one-line errors, one JSON object.</summary>
public sealed class ArtifactCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-artifact-cli-").FullName;
    private readonly Dictionary<string, string> _env = new();

    public ArtifactCliTests()
    {
        _env["HOME"] = _dir;
        _env["S3POD_STORE"] = Path.Combine(_dir, "store");
    }

    public void Dispose()
    {
        foreach (var f in Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories)) File.SetAttributes(f, FileAttributes.Normal);
        Directory.Delete(_dir, true);
    }

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(n => _env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, _dir);
        var code = await app.RunAsync(args, default);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private async Task<JsonElement> Json(params string[] args)
    {
        var (code, stdout, stderr) = await Run([.. args, "--json"]);
        Assert.True(code == 0, stderr);
        Assert.Single(stdout.Trim().Split('\n'));
        return JsonDocument.Parse(stdout).RootElement;
    }

    private async Task Fails(int exitCode, string messagePart, params string[] args)
    {
        var (code, stdout, stderr) = await Run([.. args, "--json"]);
        Assert.True(code == exitCode, $"exit {code}, expected {exitCode}: {stderr}");
        var error = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(exitCode, error.GetProperty("exitCode").GetInt32());
        Assert.Contains(messagePart, error.GetProperty("error").GetString());
        Assert.Single(stderr.Trim().Split('\n'), l => l.StartsWith("s3pod: ") && !l.Contains("local store"));
    }

    [Fact]
    public async Task Push_PrintsTheVersion_AndEveryCommandHasOneJsonResult()
    {
        File.WriteAllText(Path.Combine(_dir, "app.bin"), "one");
        var (code, stdout, _) = await Run("artifact", "push", "app", "app.bin");
        Assert.Equal(0, code);
        Assert.Equal("1\n", stdout);
        File.WriteAllText(Path.Combine(_dir, "app.bin"), "two");
        var pushed = await Json("artifact", "push", "app", "app.bin", "--alias", "live", "--meta", "git=abc", "--content-type", "text/plain");
        Assert.Equal("2", pushed.GetProperty("version").GetString());
        Assert.Equal("int", pushed.GetProperty("scheme").GetString());
        Assert.Equal("live", pushed.GetProperty("aliases")[0].GetString());

        Assert.Equal("2", (await Json("artifact", "info", "app:live")).GetProperty("version").GetString());
        Assert.Equal("text/plain", (await Json("artifact", "info", "app")).GetProperty("record").GetProperty("contentType").GetString());
        Assert.Equal(2, (await Json("artifact", "versions", "app")).GetProperty("versions").GetArrayLength());
        Assert.Equal("app", (await Json("artifact", "list")).GetProperty("artifacts")[0].GetString());
        Assert.Equal("1", (await Json("artifact", "alias", "set", "app", "canary", "1")).GetProperty("version").GetString());
        Assert.Equal(2, (await Json("artifact", "alias", "list", "app")).GetProperty("aliases").GetArrayLength());
        Assert.Equal("1", (await Json("artifact", "pick", "app", "canary", "--seed", "h1")).GetProperty("version").GetString());
        Assert.EndsWith("app.bin", (await Json("artifact", "pull", "app:1", "-o", "out/app.bin")).GetProperty("path").GetString());
        Assert.Equal("one", File.ReadAllText(Path.Combine(_dir, "out/app.bin")));
        Assert.True(File.Exists((await Json("artifact", "path", "app:2")).GetProperty("path").GetString()));
        Assert.Equal("1", (await Json("artifact", "alias", "rm", "app", "canary")).GetProperty("previousVersion").GetString());
        Assert.True((await Json("artifact", "rm", "app", "1")).GetProperty("deleted").GetBoolean());
        Assert.False((await Json("artifact", "purge", "app", "--keep-last", "1", "--older-than", "0s", "--dry-run")).GetProperty("deleted").EnumerateArray().Any());
        Assert.True((await Json("artifact", "gc", "--grace", "0s", "--dry-run")).GetProperty("dryRun").GetBoolean());
        Assert.NotEmpty((await Json("artifact", "stage", "app", "app.bin")).GetProperty("digest").GetString()!);
        Assert.False((await Json("artifact", "publish", "app", "--if-changed")).GetProperty("published").GetBoolean());
    }

    [Fact]
    public async Task ExitCodes_FollowTheContract()
    {
        File.WriteAllText(Path.Combine(_dir, "f"), "x");
        await Run("artifact", "push", "app", "f", "--scheme", "semver");
        await Fails(1, "does not exist", "artifact", "info", "nothing");
        await Fails(1, "app:9.9.9 does not exist", "artifact", "pull", "app:9.9.9");
        await Fails(1, "no alias live", "artifact", "path", "app:live");
        await Fails(2, "not a semver version", "artifact", "push", "app", "f", "--version", "7");
        await Fails(2, "--bump-major does not apply", "artifact", "push", "app", "f", "--bump-major");
        await Fails(2, "reserved for s3pod's layout", "artifact", "push", "a/_x", "f");
        await Fails(2, "no such file", "artifact", "push", "app", "missing");
        await Fails(2, "--bump must be", "artifact", "push", "app", "f", "--bump", "huge");
        await Fails(2, "--meta", "artifact", "push", "app", "f", "--meta", "novalue");
        await Fails(2, "directory artifacts only", "artifact", "path", "app:1.0.0[x]");
        await Fails(4, "exists or was deleted", "artifact", "push", "app", "f", "--version", "1.0.0");
        await Fails(4, "points at nothing, not 1.0.0", "artifact", "alias", "set", "app", "live", "1.0.0", "--expect", "1.0.0");
        await Fails(5, "not the pinned", "artifact", "info", "app@sha256:" + new string('a', 64));
        await Fails(2, "writes the content itself", "artifact", "cat", "app");
    }

    [Fact]
    public async Task Versions_PlainOutput_ListsAliasesAndDeleted()
    {
        File.WriteAllText(Path.Combine(_dir, "f"), "x");
        await Run("artifact", "push", "app", "f");
        await Run("artifact", "push", "app", "f", "--alias", "live");
        await Run("artifact", "push", "app", "f");
        await Run("artifact", "rm", "app", "3");
        var (_, stdout, _) = await Run("artifact", "versions", "app", "--all");
        Assert.Equal("3\t(deleted)\n2\tlive\n1\n", stdout);
    }
}
