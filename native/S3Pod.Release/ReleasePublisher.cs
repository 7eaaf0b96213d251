using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Octokit;

namespace S3Pod.Release;

/// <summary>A failure with the exit code the tool ends with: 2 for usage and local problems, 1 for GitHub's side.</summary>
internal sealed class ReleaseException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>What one run publishes: the tag, the repository, where the binaries are, where GitHub is, and the pinned-sums files to rewrite.</summary>
internal sealed record ReleaseOptions(string Tag, string Owner, string Repository, string Dist, Uri? ApiUrl, string Token, IReadOnlyList<string> PinFiles)
{
    private const string Usage = "usage: s3pod-release --tag vX.Y.Z --repo owner/name [--dist DIR] [--api-url URL] [--pin FILE]... (token in GITHUB_TOKEN)";

    /// <summary>Parses the command line; the pinned-sums files default to the action's and (when it exists) the Azure task's.</summary>
    /// <param name="buildVersion">The version the build took (Directory.Build.props); default: this tool's own, built from the same props.</param>
    public static ReleaseOptions Parse(string[] args, Func<string, string?> env, string workingDirectory, string? buildVersion = null)
    {
        string? tag = null, repo = null, dist = null, api = null;
        var pins = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ReleaseException($"{args[i]} needs a value; {Usage}", 2);
            switch (args[i])
            {
                case "--tag": tag = Value(); break;
                case "--repo": repo = Value(); break;
                case "--dist": dist = Value(); break;
                case "--api-url": api = Value(); break;
                case "--pin": pins.Add(Path.GetFullPath(Value(), workingDirectory)); break;
                default: throw new ReleaseException($"unknown argument '{args[i]}'; {Usage}", 2);
            }
        }
        if (tag is null || repo is null) throw new ReleaseException(Usage, 2);
        if (!System.Text.RegularExpressions.Regex.IsMatch(tag, @"^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"))
            throw new ReleaseException($"tag '{tag}' is not vMAJOR.MINOR.PATCH[-PRERELEASE]", 2);
        var parts = repo.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0)) throw new ReleaseException($"--repo must be owner/name, not '{repo}'", 2);
        string token = env("GITHUB_TOKEN") is { Length: > 0 } t ? t : throw new ReleaseException("GITHUB_TOKEN is not set", 2);
        // The binaries answer --version with the build's version and the wrappers pin the tag's: they must agree.
        var built = buildVersion ?? BuildVersion;
        if (tag[1..].Split('-')[0] != built)
            throw new ReleaseException($"tag '{tag}' is not the version this build takes ({built}, from Directory.Build.props); set <Version> there and rebuild, or tag v{built}", 2);
        if (pins.Count == 0)
        {
            pins.Add(Path.Join(workingDirectory, "action", "src", "core", "release-sums.json"));
            string azure = Path.Join(workingDirectory, "azure-task", "S3PodV1", "release-sums.json");
            if (File.Exists(azure)) pins.Add(azure);
        }
        return new ReleaseOptions(tag, parts[0], parts[1], Path.GetFullPath(dist ?? "dist", workingDirectory),
            api is null ? null : new Uri(api), token, pins);
    }

    /// <summary>Major.minor.patch of this tool's assembly: the <c>Version</c> of Directory.Build.props, as for the native binary.</summary>
    public static string BuildVersion => typeof(ReleaseOptions).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";

    /// <summary>The version the tag names (without the leading v), as the wrappers pin it.</summary>
    public string Version => Tag[1..];
}

/// <summary>
/// Publishes dist/ to the GitHub release of a tag: checks dist/ against its SHA256SUMS, creates the
/// release once, uploads each binary and SHA256SUMS (replacing an asset only when its bytes differ,
/// so a re-run changes nothing), downloads every asset back the way users get it and compares it
/// with the sums, then rewrites the wrappers' pinned sums. Any mismatch is an error naming the asset.
/// </summary>
internal sealed class ReleasePublisher(ReleaseOptions options, TextWriter log)
{
    private const string SumsName = "SHA256SUMS";
    private static readonly TimeSpan UploadTimeout = TimeSpan.FromMinutes(10);

    private readonly GitHubClient _github = CreateClient(options);

    private static GitHubClient CreateClient(ReleaseOptions options)
    {
        var product = new ProductHeaderValue("s3pod-release");
        // Another API URL is GitHub Enterprise to Octokit (it adds api/v3/); the tests' stand-in serves that.
        var client = options.ApiUrl is null ? new GitHubClient(product) : new GitHubClient(product, options.ApiUrl);
        client.Credentials = new Credentials(options.Token);
        client.SetRequestTimeout(TimeSpan.FromMinutes(2));
        return client;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var sums = ReadLocalSums();
        var release = await GetOrCreateReleaseAsync();
        var existing = await _github.Repository.Release.GetAllAssets(options.Owner, options.Repository, release.Id);
        foreach (var (name, sha) in sums.OrderBy(kv => kv.Key, StringComparer.Ordinal).Append(new(SumsName, Sha256(Path.Join(options.Dist, SumsName)))))
        {
            var current = existing.FirstOrDefault(a => a.Name == name);
            if (current is not null)
            {
                if (await DownloadSha256Async(current, ct) == sha)
                {
                    log.WriteLine($"{name}: already on the release, unchanged");
                    continue;
                }
                log.WriteLine($"{name}: on the release with other bytes; replacing it");
                await _github.Repository.Release.DeleteAsset(options.Owner, options.Repository, current.Id);
            }
            await using var content = File.OpenRead(Path.Join(options.Dist, name));
            await _github.Repository.Release.UploadAsset(release, new ReleaseAssetUpload(name, ContentType(name), content, UploadTimeout), ct);
            log.WriteLine($"{name}: uploaded ({ContentType(name)})");
        }
        await VerifyAsync(release, sums, ct);
        foreach (var pin in options.PinFiles) RewritePins(pin, sums);
    }

    /// <summary>dist/SHA256SUMS, checked against the files beside it: every s3pod binary listed, every listed file matching.</summary>
    private Dictionary<string, string> ReadLocalSums()
    {
        string sumsPath = Path.Join(options.Dist, SumsName);
        if (!File.Exists(sumsPath)) throw new ReleaseException($"{sumsPath} does not exist: run ./publish-aot.sh first", 2);
        var sums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(sumsPath).Where(l => l.Length > 0))
        {
            // sha256sum's format: 64 hex digits, two characters (" " or " *"), the name.
            var m = System.Text.RegularExpressions.Regex.Match(line, "^([0-9a-f]{64}) [ *](s3pod-[a-z]+-[a-z0-9]+(?:\\.exe)?)$");
            if (!m.Success) throw new ReleaseException($"{sumsPath}: not a line of sha256sum output for an s3pod binary: '{line}'", 2);
            sums[m.Groups[2].Value] = m.Groups[1].Value;
        }
        if (sums.Count == 0) throw new ReleaseException($"{sumsPath} lists no binaries", 2);
        foreach (var file in Directory.EnumerateFiles(options.Dist, "s3pod-*").Select(Path.GetFileName))
        {
            if (file is not null && !file.EndsWith(".tmp", StringComparison.Ordinal) && !sums.ContainsKey(file))
                throw new ReleaseException($"{file} is in {options.Dist} but not in {SumsName}: run ./publish-aot.sh again", 2);
        }
        foreach (var (name, sha) in sums)
        {
            string path = Path.Join(options.Dist, name);
            if (!File.Exists(path)) throw new ReleaseException($"{SumsName} lists {name}, which is not in {options.Dist}", 2);
            if (Sha256(path) != sha) throw new ReleaseException($"{name} in {options.Dist} does not match its line in {SumsName}", 2);
        }
        return sums;
    }

    private async Task<Octokit.Release> GetOrCreateReleaseAsync()
    {
        try
        {
            var found = await _github.Repository.Release.Get(options.Owner, options.Repository, options.Tag);
            log.WriteLine($"release {options.Tag} exists ({found.HtmlUrl})");
            return found;
        }
        catch (NotFoundException)
        {
            var created = await _github.Repository.Release.Create(options.Owner, options.Repository, new NewRelease(options.Tag)
            {
                Name = $"s3pod {options.Version}",
                Body = $"s3pod {options.Version}: native binaries and their SHA256SUMS.",
                Prerelease = options.Tag.Contains('-'),
            });
            log.WriteLine($"release {options.Tag} created ({created.HtmlUrl})");
            return created;
        }
    }

    /// <summary>Every asset downloaded back from its public download URL (what the action fetches) and compared with the sums.</summary>
    private async Task VerifyAsync(Octokit.Release release, Dictionary<string, string> sums, CancellationToken ct)
    {
        var assets = await _github.Repository.Release.GetAllAssets(options.Owner, options.Repository, release.Id);
        var expected = sums.Append(new(SumsName, Sha256(Path.Join(options.Dist, SumsName))));
        foreach (var (name, sha) in expected)
        {
            var matching = assets.Where(a => a.Name == name).ToList();
            if (matching.Count != 1) throw new ReleaseException($"release {options.Tag} has {matching.Count} assets named {name}, expected 1");
            string served = await DownloadSha256Async(matching[0], ct);
            if (served != sha)
                throw new ReleaseException($"release {options.Tag}: {name} as GitHub serves it has sha256 {served}, but {SumsName} says {sha}");
        }
        log.WriteLine($"verified {sums.Count} binaries and {SumsName} as served by GitHub");
    }

    private static readonly HttpClient Downloads = new(new HttpClientHandler { AllowAutoRedirect = true }) { Timeout = TimeSpan.FromMinutes(5) };

    private static async Task<string> DownloadSha256Async(ReleaseAsset asset, CancellationToken ct)
    {
        using var response = await Downloads.GetAsync(asset.BrowserDownloadUrl, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
            throw new ReleaseException($"downloading {asset.Name} from {asset.BrowserDownloadUrl}: HTTP {(int)response.StatusCode}");
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(body, ct));
    }

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>What GitHub stores as the asset's type and serves back: executables as binary, the sums as text.</summary>
    internal static string ContentType(string name) =>
        name == SumsName ? "text/plain" : name.EndsWith(".exe", StringComparison.Ordinal) ? "application/vnd.microsoft.portable-executable" : "application/octet-stream";

    /// <summary>
    /// Rewrites a wrapper's pinned release sums ({"version", "repository", "assets": {name: sha256}},
    /// as action/scripts/update-release-sums.mjs writes it) to exactly this release.
    /// </summary>
    private void RewritePins(string path, Dictionary<string, string> sums)
    {
        var assets = new JsonObject();
        foreach (var (name, sha) in sums.OrderBy(kv => kv.Key, StringComparer.Ordinal)) assets[name] = sha;
        var pins = new JsonObject
        {
            ["version"] = options.Version,
            ["repository"] = $"{options.Owner}/{options.Repository}",
            ["assets"] = assets,
        };
        File.WriteAllText(path, pins.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        log.WriteLine($"{path}: pinned s3pod {options.Version} ({sums.Count} binaries)");
    }
}
