using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using S3Pod.Release;

namespace S3Pod.ReleaseTests;

/// <summary>The release tool end to end: real Octokit against the local GitHub stand-in, real files in a dist/.</summary>
public sealed class ReleasePublisherTests : IDisposable
{
    private static readonly string Tag = "v" + ReleaseOptions.BuildVersion;
    private readonly GitHubStandIn _github = new();
    private readonly string _root = Directory.CreateTempSubdirectory("s3pod-release-").FullName;
    private readonly StringWriter _log = new();

    private string Dist => Path.Join(_root, "dist");
    private string Pins => Path.Join(_root, "release-sums.json");

    public ReleasePublisherTests()
    {
        Directory.CreateDirectory(Dist);
        File.WriteAllText(Pins, "{\"version\": \"0.9.0\", \"repository\": \"o/r\", \"assets\": {}}\n");
        WriteBinary("s3pod-linux-x64", "linux x64 build");
        WriteBinary("s3pod-osx-arm64", "macOS arm64 build");
        WriteBinary("s3pod-win-x64.exe", "windows build");
        WriteSums();
    }

    public void Dispose()
    {
        _github.Dispose();
        Directory.Delete(_root, true);
    }

    private void WriteBinary(string name, string content) => File.WriteAllText(Path.Join(Dist, name), content);

    private void WriteSums() => File.WriteAllLines(Path.Join(Dist, "SHA256SUMS"),
        Directory.GetFiles(Dist, "s3pod-*").Order(StringComparer.Ordinal).Select(f => $"{Sha(File.ReadAllBytes(f))}  {Path.GetFileName(f)}"));

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    private ReleaseOptions Options(string? token = "test-token", params string[] extra) => ReleaseOptions.Parse(
        ["--tag", Tag, "--repo", "o/r", "--dist", Dist, "--api-url", _github.BaseUrl, "--pin", Pins, .. extra],
        n => n == "GITHUB_TOKEN" ? token : null, _root);

    private Task RunAsync() => new ReleasePublisher(Options(), _log).RunAsync(CancellationToken.None);

    [Fact]
    public async Task FirstRun_CreatesTheRelease_UploadsEveryAssetWithItsContentType_AndPinsTheSums()
    {
        await RunAsync();

        Assert.Equal(1, _github.ReleasesCreated);
        var assets = _github.AssetsOf(Tag);
        Assert.Equal(new[] { "SHA256SUMS", "s3pod-linux-x64", "s3pod-osx-arm64", "s3pod-win-x64.exe" }, assets.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("application/octet-stream", assets["s3pod-linux-x64"].ContentType);
        Assert.Equal("application/vnd.microsoft.portable-executable", assets["s3pod-win-x64.exe"].ContentType);
        Assert.Equal("text/plain", assets["SHA256SUMS"].ContentType);
        foreach (var (name, (_, bytes)) in assets) Assert.Equal(File.ReadAllBytes(Path.Join(Dist, name)), bytes);

        var pins = JsonNode.Parse(File.ReadAllText(Pins))!;
        Assert.Equal(ReleaseOptions.BuildVersion, pins["version"]!.GetValue<string>());
        Assert.Equal("o/r", pins["repository"]!.GetValue<string>());
        Assert.Equal(Sha(File.ReadAllBytes(Path.Join(Dist, "s3pod-win-x64.exe"))), pins["assets"]!["s3pod-win-x64.exe"]!.GetValue<string>());
        Assert.Equal(3, pins["assets"]!.AsObject().Count);
        Assert.Contains("verified 3 binaries", _log.ToString());
    }

    [Fact]
    public async Task ReRun_IsIdempotent_AndAChangedBinaryIsReplaced()
    {
        await RunAsync();
        int uploads = _github.Uploads;

        await RunAsync();
        Assert.Equal(1, _github.ReleasesCreated);
        Assert.Equal(uploads, _github.Uploads);
        Assert.Equal(0, _github.Deletes);
        Assert.Equal(4, _github.AssetCount(Tag));

        WriteBinary("s3pod-linux-x64", "a rebuilt linux x64 binary");
        WriteSums();
        await RunAsync();
        Assert.Equal(1, _github.ReleasesCreated);
        Assert.Equal(2, _github.Deletes); // the binary and SHA256SUMS, nothing else
        Assert.Equal(uploads + 2, _github.Uploads);
        Assert.Equal(4, _github.AssetCount(Tag));
        Assert.Equal("a rebuilt linux x64 binary", Encoding.UTF8.GetString(_github.AssetsOf(Tag)["s3pod-linux-x64"].Bytes));
    }

    [Fact]
    public async Task WhatGitHubServes_NotMatchingTheSums_IsAClearError()
    {
        _github.Serve = (name, bytes) => name == "s3pod-osx-arm64" ? [.. bytes, (byte)'!'] : bytes;

        var e = await Assert.ThrowsAsync<ReleaseException>(RunAsync);

        Assert.Equal(1, e.ExitCode);
        Assert.Contains("s3pod-osx-arm64 as GitHub serves it has sha256", e.Message);
        Assert.Contains("SHA256SUMS says", e.Message);
        Assert.Contains("0.9.0", File.ReadAllText(Pins)); // nothing pinned to a release that failed verification
    }

    [Fact]
    public async Task DistNotMatchingItsSums_IsExit2_BeforeAnyRequest()
    {
        WriteBinary("s3pod-osx-arm64", "changed after the sums were written");
        var e = await Assert.ThrowsAsync<ReleaseException>(RunAsync);
        Assert.Equal(2, e.ExitCode);
        Assert.Contains("s3pod-osx-arm64", e.Message);
        Assert.Empty(_github.Requests);
    }

    [Fact]
    public async Task BinaryMissingFromTheSums_IsExit2()
    {
        WriteBinary("s3pod-linux-arm64", "not summed");
        var e = await Assert.ThrowsAsync<ReleaseException>(RunAsync);
        Assert.Equal(2, e.ExitCode);
        Assert.Contains("s3pod-linux-arm64", e.Message);
    }

    [Theory]
    [InlineData(null, "v1.2.3", "GITHUB_TOKEN")]
    [InlineData("t", "1.2.3", "is not vMAJOR")]
    [InlineData("t", "v1.2", "is not vMAJOR")]
    public void BadUsage_IsExit2(string? token, string tag, string message)
    {
        var e = Assert.Throws<ReleaseException>(() => ReleaseOptions.Parse(["--tag", tag, "--repo", "o/r"], n => n == "GITHUB_TOKEN" ? token : null, _root));
        Assert.Equal(2, e.ExitCode);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ATagThatIsNotTheBuildsVersion_IsExit2()
    {
        var e = Assert.Throws<ReleaseException>(() => ReleaseOptions.Parse(["--tag", "v9.8.7", "--repo", "o/r"], n => n == "GITHUB_TOKEN" ? "t" : null, _root, "1.1.0"));
        Assert.Equal(2, e.ExitCode);
        Assert.Contains("not the version this build takes (1.1.0", e.Message);
        Assert.Equal("v1.1.0-rc.1", ReleaseOptions.Parse(["--tag", "v1.1.0-rc.1", "--repo", "o/r"], n => n == "GITHUB_TOKEN" ? "t" : null, _root, "1.1.0").Tag);
    }

    [Fact]
    public void TheNativeBinary_NeverReferencesOctokit()
    {
        // Octokit is not AOT-safe: only this tool may use it.
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Join(dir, "S3Pod.sln"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no S3Pod.sln above the tests");
        Assert.DoesNotContain("Octokit", File.ReadAllText(Path.Join(dir, "native", "S3Pod", "S3Pod.csproj")));
    }
}
