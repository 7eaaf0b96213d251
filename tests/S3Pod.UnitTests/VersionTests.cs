using System.Text.Json;
using System.Text.RegularExpressions;

namespace S3Pod.UnitTests;

/// <summary>
/// One version everywhere: what the build takes (Directory.Build.props, which `--version` prints and
/// the release tool checks its tag against), what the GitHub Action pins (release-sums.json, bundled
/// into action/dist), and the Azure extension and its tasks.
/// </summary>
public sealed class VersionTests
{
    private static string Repo(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "S3Pod.sln"))) return Path.Combine(d.FullName, relative);
        throw new InvalidOperationException("repository root not found");
    }

    private static string Json(string relative, params string[] path)
    {
        var e = JsonDocument.Parse(File.ReadAllText(Repo(relative))).RootElement;
        foreach (var p in path) e = e.GetProperty(p);
        return e.ValueKind == JsonValueKind.Number ? e.GetRawText() : e.GetString()!;
    }

    [Fact]
    public void TheBuild_TheBinary_TheWrappersPin_AndTheExtension_HaveOneVersion()
    {
        var props = Regex.Match(File.ReadAllText(Repo("Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;
        Assert.Equal("1.1.0", props);
        var found = new Dictionary<string, string>
        {
            ["the binary (BuildInfo.Version, --version)"] = BuildInfo.Version,
            ["action/src/core/release-sums.json"] = Json("action/src/core/release-sums.json", "version"),
            ["action/package.json"] = Json("action/package.json", "version"),
            ["azure-task/package.json"] = Json("azure-task/package.json", "version"),
            ["azure-task/vss-extension.json"] = Json("azure-task/vss-extension.json", "version"),
        };
        foreach (var task in Directory.EnumerateFiles(Repo("azure-task"), "task.json", SearchOption.AllDirectories).Where(p => !p.Contains("node_modules")))
            found[Path.GetRelativePath(Repo(""), task)] = $"{Json(task, "version", "Major")}.{Json(task, "version", "Minor")}.{Json(task, "version", "Patch")}";
        // The bundle is what the action runs: a stale dist pins the old version.
        var dist = File.ReadAllText(Repo("action/dist/action.js"));
        found["action/dist/action.js (bundled release-sums)"] = Regex.Match(dist, "version: \"([0-9.]+)\",\\s*repository:").Groups[1].Value;
        foreach (var (where, version) in found) Assert.True(version == props, $"{where} says {version}, Directory.Build.props {props}");
    }
}
