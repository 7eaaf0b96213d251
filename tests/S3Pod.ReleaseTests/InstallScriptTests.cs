using System.Diagnostics;
using System.Security.Cryptography;
using S3Pod.Release;

namespace S3Pod.ReleaseTests;

/// <summary>
/// install.sh (sh) and install.ps1 (pwsh) against a release that the release tool published to the
/// local GitHub stand-in; S3POD_INSTALL_BASE_URL points them at it. The "binaries" are small files
/// whose content names their platform, so the test sees which asset each script picked.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class InstallScriptTests : IDisposable
{
    private static readonly string Tag = "v" + ReleaseOptions.BuildVersion;
    private static readonly string Repo = FindRepo();
    private readonly GitHubStandIn _github = new();
    private readonly string _root = Directory.CreateTempSubdirectory("s3pod-install-").FullName;

    private string Dist => Path.Join(_root, "dist");
    private string Target => Path.Join(_root, "bin");

    public InstallScriptTests()
    {
        Directory.CreateDirectory(Dist);
        foreach (var name in new[] { "s3pod-linux-x64", "s3pod-linux-arm64", "s3pod-osx-arm64", "s3pod-win-x64.exe" })
            File.WriteAllText(Path.Join(Dist, name), $"#!/bin/sh\necho {name}\n");
        File.WriteAllLines(Path.Join(Dist, "SHA256SUMS"), Directory.GetFiles(Dist, "s3pod-*").Order(StringComparer.Ordinal)
            .Select(f => $"{Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))}  {Path.GetFileName(f)}"));
        var pins = Path.Join(_root, "release-sums.json");
        File.WriteAllText(pins, "{\"version\": \"0.9.0\", \"repository\": \"o/r\", \"assets\": {}}\n");
        var options = ReleaseOptions.Parse(["--tag", Tag, "--repo", "o/r", "--dist", Dist, "--api-url", _github.BaseUrl, "--pin", pins],
            n => n == "GITHUB_TOKEN" ? "test-token" : null, _root);
        new ReleasePublisher(options, new StringWriter()).RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _github.Dispose();
        Directory.Delete(_root, true);
    }

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Join(d.FullName, "install.sh")) && File.Exists(Path.Join(d.FullName, "S3Pod.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    private (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["S3POD_INSTALL_BASE_URL"] = _github.BaseUrl;
        psi.Environment["HOME"] = _root;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException($"{file} did not finish"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private (int Code, string Out, string Err) Sh(Dictionary<string, string> env, params string[] args) =>
        Run("sh", [Path.Join(Repo, "install.sh"), .. args], env);

    private string Installed(string name = "s3pod") => File.ReadAllText(Path.Join(Target, name));

    [Theory]
    [InlineData("Linux", "x86_64", "s3pod-linux-x64")]
    [InlineData("Linux", "aarch64", "s3pod-linux-arm64")]
    [InlineData("Darwin", "arm64", "s3pod-osx-arm64")]
    public void Sh_PicksTheAssetForTheOsAndArch_VerifiesIt_AndInstallsItExecutable(string os, string arch, string asset)
    {
        var (code, stdout, stderr) = Sh(new() { ["S3POD_OS"] = os, ["S3POD_ARCH"] = arch }, "--version", Tag, "--dir", Target);
        Assert.True(code == 0, stderr);
        Assert.Contains(asset, Installed());
        Assert.True(File.GetUnixFileMode(Path.Join(Target, "s3pod")).HasFlag(UnixFileMode.UserExecute));
        Assert.Contains($"installed s3pod {Tag} ({asset}, sha256 ", stdout);
        Assert.Contains($"GET /download/{Tag}/SHA256SUMS", _github.Requests);
        Assert.Contains($"GET /download/{Tag}/{asset}", _github.Requests);
        Assert.Equal(["s3pod"], Directory.GetFileSystemEntries(Target).Select(Path.GetFileName));
    }

    [Fact]
    public void Sh_DefaultsToHomeLocalBin_AndTakesTheVersionWithoutV()
    {
        var (code, _, stderr) = Sh(new() { ["S3POD_OS"] = "Linux", ["S3POD_ARCH"] = "x86_64", ["S3POD_VERSION"] = ReleaseOptions.BuildVersion });
        Assert.True(code == 0, stderr);
        Assert.Contains("s3pod-linux-x64", File.ReadAllText(Path.Join(_root, ".local", "bin", "s3pod")));
    }

    [Fact]
    public void Sh_AChecksumMismatch_InstallsNothing()
    {
        _github.Serve = (name, bytes) => name == "s3pod-linux-x64" ? [.. bytes, (byte)'!'] : bytes;
        var (code, _, stderr) = Sh(new() { ["S3POD_OS"] = "Linux", ["S3POD_ARCH"] = "x86_64" }, "--version", Tag, "--dir", Target);
        Assert.Equal(1, code);
        Assert.StartsWith("install.sh: checksum mismatch for s3pod-linux-x64", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Join(Target, "s3pod")));
    }

    [Theory]
    [InlineData("FreeBSD", "x86_64", "no s3pod build for the OS FreeBSD")]
    [InlineData("Linux", "riscv64", "no s3pod build for the CPU riscv64")]
    [InlineData("Darwin", "x86_64", "lists no s3pod-osx-x64")]
    public void Sh_NoBuildForThePlatform_OneLine(string os, string arch, string message)
    {
        var (code, _, stderr) = Sh(new() { ["S3POD_OS"] = os, ["S3POD_ARCH"] = arch }, "--version", Tag, "--dir", Target);
        Assert.Equal(1, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Sh_AMissingRelease_OneLine()
    {
        var (code, _, stderr) = Sh(new() { ["S3POD_OS"] = "Linux", ["S3POD_ARCH"] = "x86_64" }, "--version", "v9.9.9", "--dir", Target);
        Assert.Equal(1, code);
        Assert.StartsWith($"install.sh: could not download {_github.BaseUrl.TrimEnd('/')}/download/v9.9.9/SHA256SUMS", stderr);
    }

    /// <summary>pwsh: on PATH, or where `dotnet tool install -g PowerShell` puts it (tests/run-all.sh installs it).</summary>
    private static string? Pwsh()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append(Path.Join(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools")))
            if (dir.Length > 0 && File.Exists(Path.Join(dir, "pwsh"))) return Path.Join(dir, "pwsh");
        return null;
    }

    private (int Code, string Out, string Err) Ps(Dictionary<string, string> env, params string[] args)
    {
        var pwsh = Pwsh();
        Skip.If(pwsh is null, "pwsh is not installed (dotnet tool install -g PowerShell --version 7.6.10; tests/run-all.sh does it)");
        // pwsh as a .NET tool needs DOTNET_ROOT when dotnet is not in its default place.
        var dotnetRoot = Path.GetDirectoryName(Environment.ProcessPath!)!;
        env.TryAdd("DOTNET_ROOT", Environment.GetEnvironmentVariable("DOTNET_ROOT") ?? dotnetRoot);
        return Run(pwsh!, ["-NoProfile", "-NonInteractive", "-File", Path.Join(Repo, "install.ps1"), .. args], env);
    }

    [SkippableFact]
    public void Ps1_OnThisOs_InstallsTheLinuxAsset()
    {
        var (code, stdout, stderr) = Ps(new(), "-Version", Tag, "-Dir", Target, "-Arch", "X64");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("s3pod-linux-x64", Installed());
        Assert.True(File.GetUnixFileMode(Path.Join(Target, "s3pod")).HasFlag(UnixFileMode.UserExecute));
        Assert.Contains($"installed s3pod {Tag} (s3pod-linux-x64, sha256 ", stdout);
    }

    [SkippableFact]
    public void Ps1_ForWindows_PicksTheExe_AndInstallsS3podExe()
    {
        var (code, stdout, stderr) = Ps(new() { ["S3POD_OS"] = "windows", ["S3POD_ARCH"] = "AMD64" }, "-Version", Tag, "-Dir", Target);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("s3pod-win-x64.exe", Installed("s3pod.exe"));
        Assert.Contains($"GET /download/{Tag}/s3pod-win-x64.exe", _github.Requests);
    }

    [SkippableFact]
    public void Ps1_AChecksumMismatch_InstallsNothing()
    {
        _github.Serve = (name, bytes) => name == "s3pod-win-x64.exe" ? [.. bytes, (byte)'!'] : bytes;
        var (code, _, stderr) = Ps(new() { ["S3POD_OS"] = "windows", ["S3POD_ARCH"] = "x64" }, "-Version", Tag, "-Dir", Target);
        Assert.Equal(1, code);
        Assert.StartsWith("install.ps1: checksum mismatch for s3pod-win-x64.exe", stderr);
        Assert.False(Directory.Exists(Target) && Directory.EnumerateFileSystemEntries(Target).Any());
    }
}
