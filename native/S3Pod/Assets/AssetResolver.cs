using System.Diagnostics;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Artifacts;

namespace S3Pod.Assets;

/// <summary>
/// Which manifest file is in force: the one named by <c>--manifest</c> / <c>S3POD_MANIFEST</c>, else
/// <c>s3pod.assets.json</c> in the working directory, else the flat <c>versioned_assets.json</c> there.
/// Read once, on first use.
/// </summary>
internal sealed class ManifestFile
{
    private readonly Lazy<AssetManifest?> _loaded;

    public ManifestFile(string? configured, string workingDirectory)
    {
        if (configured is not null) Path = System.IO.Path.GetFullPath(configured, workingDirectory);
        else
        {
            var ours = System.IO.Path.Combine(workingDirectory, AssetSettings.DefaultManifest);
            var baiji = System.IO.Path.Combine(workingDirectory, AssetSettings.BaijiManifest);
            Path = !File.Exists(ours) && File.Exists(baiji) ? baiji : ours;
        }
        _loaded = new Lazy<AssetManifest?>(() => AssetManifest.Load(Path));
    }

    public string Path { get; }

    /// <summary>The manifest, or null when the file does not exist.</summary>
    public AssetManifest? Current => _loaded.Value;

    public AssetManifest Require() =>
        Current ?? throw S3PodException.NotFound($"no manifest at {Path} (name one with --manifest or S3POD_MANIFEST)");

    public string Directory => System.IO.Path.GetDirectoryName(Path)!;
}

/// <summary>
/// Turns a spec into a local path. The version comes from, in order: <c>S3POD_ASSET_&lt;NAME&gt;_FILE</c>
/// (a local file instead of any version), <c>S3POD_ASSET_&lt;NAME&gt;_VERSION</c>, the spec's own
/// selector, the manifest entry (a pin, or a file / s3:// override), else the newest version. A
/// version present in the assets directory is used with no network; otherwise the artifact store
/// (<see cref="IAssetSource"/>, when there is one) resolves and supplies it; without one, partial
/// versions and "latest" resolve among the versions present.
/// </summary>
internal sealed class AssetResolver(
    AssetsDirectory assets,
    ManifestFile manifest,
    IAssetSource? remote,
    ObjectCache objects,
    Func<string, string?> env,
    string workingDirectory,
    Reporter reporter,
    TimeProvider clock)
{
    public const string EnvPrefix = "S3POD_ASSET_";

    public AssetsDirectory Assets => assets;

    public async Task<AssetResult> ResolveAsync(string text, FetchOptions options, CancellationToken ct)
    {
        var timer = Stopwatch.StartNew();
        var spec = AssetSpec.Parse(text);
        var entry = manifest.Current?.Find(spec.Name);
        if (spec.ManifestPath && entry is null && spec.Selector is null)
            throw S3PodException.NotFound(manifest.Current is null
                ? $"{text}: no manifest at {manifest.Path} to resolve it through (name one with --manifest or S3POD_MANIFEST)"
                : $"{text} is not in the manifest {manifest.Path}");

        var envName = EnvPrefix + AssetSpec.EnvName(spec.Name);
        if (env(envName + "_FILE") is { Length: > 0 } file)
        {
            reporter.Info($"asset {spec.Name}: using {file} ({envName}_FILE)");
            return Overridden(spec, LocalOverride(spec, file, workingDirectory, envName + "_FILE"), envName + "_FILE", timer);
        }

        string? selector = null, digest = spec.Digest, overriddenBy = null;
        if (env(envName + "_VERSION") is { Length: > 0 } forced)
        {
            selector = forced;
            overriddenBy = envName + "_VERSION";
            reporter.Info($"asset {spec.Name}: version {forced} ({overriddenBy})");
        }
        else if (spec.Selector is not null)
        {
            selector = spec.Selector;
        }
        else if (entry is not null)
        {
            if (entry.File is not null)
                return Overridden(spec, LocalOverride(spec, entry.File, manifest.Directory, $"the manifest entry {entry.Key}"), "manifest", timer);
            if (entry.Uri is not null) return await ObjectOverrideAsync(spec, entry.Uri, options, timer, ct);
            selector = entry.Version;
            // A digest pins the manifest's version, not one forced from elsewhere.
            digest ??= entry.Digest;
        }

        var (local, action) = await LocateAsync(spec, selector, digest, options, ct);
        await VerifyAsync(local, digest, ct);
        var path = WithSubPath(spec, local);
        return new AssetResult(text, path, action, File.Exists(path) ? "file" : "directory", SizeOrNull(path),
            Name: spec.Name, Version: local.Version, Digest: digest ?? local.Record?.Digest, OverriddenBy: overriddenBy, Seconds: timer.Elapsed.TotalSeconds);
    }

    private async Task<(LocalAsset Asset, string Action)> LocateAsync(AssetSpec spec, string? selector, string? digest, FetchOptions options, CancellationToken ct)
    {
        var name = spec.Name;
        if (selector is not null && assets.Find(name, selector) is { } exact) return (exact, "local");
        if (remote is not null)
        {
            RemoteAsset found;
            // Unpinned: the newest matching version here is the best answer when the store cannot be used.
            var fallback = selector is null || selector == "latest" ? assets.Newest(name)
                : SchemelessVersion.IsPartial(selector) ? assets.Newest(name, selector) : null;
            try
            {
                // With a local version that can serve, a silent store gets revalidate_timeout, not the operation's budget.
                found = fallback is null || options.Strict
                    ? await remote.ResolveAsync(name, selector, ct)
                    : await NetworkPolicy.RevalidateAsync(objects.RevalidateTimeout, spec.Describe(selector), token => remote.ResolveAsync(name, selector, token), ct);
            }
            catch (StorageException e) when (CannotUseStore(e))
            {
                // Said loudly.
                if (fallback is null || options.Strict)
                    throw S3PodException.Offline($"{spec.Describe(selector)}: {e.Message}; {(fallback is null ? "no matching version is in the assets directory" : "not using the local " + fallback.Version + " (--strict)")}", e);
                reporter.Warn($"{spec.Describe(selector)}: {e.Message}; using {fallback.Version} from the assets directory (a newer version may exist)");
                return (fallback, "stale");
            }
            if (assets.Find(name, found.Version) is { } present) return (present, "local");
            // A pinned digest the store's record does not have: refuse before downloading anything.
            if (digest is not null && found.Digest != digest)
                throw S3PodException.Integrity($"{name}:{found.Version} in {remote.Location} has digest {found.Digest}, but {digest} is pinned");
            try
            {
                var (asset, written) = await assets.MaterializeAsync(name, found.Version, async (temp, token) =>
                {
                    await remote.MaterializeAsync(found, temp, token);
                    return new AssetRecord(AssetRecord.CurrentSchema, name, found.Version, AssetRecord.KindName(found.Kind), found.Digest, found.Size, remote.Location, clock.GetUtcNow());
                }, ct);
                return (asset, written ? "download" : "local");
            }
            catch (StorageException e) when (CannotUseStore(e))
            {
                throw S3PodException.Offline($"{name}:{found.Version} is not in the assets directory and cannot be downloaded: {e.Message}", e);
            }
        }

        if (selector is null || selector == "latest")
            return (assets.Newest(name) ?? throw NotPresent(spec, selector, "no version of it"), "local");
        if (SchemelessVersion.IsPartial(selector))
            return (assets.Newest(name, selector) ?? throw NotPresent(spec, selector, $"no version {selector} or {selector}.*"), "local");
        if (char.IsAsciiLetter(selector[0]))
            throw S3PodException.Usage($"{spec.Describe(selector)}: resolving '{selector}' needs the artifact store, and none is configured (use a version)");
        throw NotPresent(spec, selector, $"no version {selector}");
    }

    private S3PodException NotPresent(AssetSpec spec, string? selector, string what)
    {
        var present = assets.Versions(spec.Name).Select(v => v.Text).Reverse().Take(10).ToList();
        return S3PodException.NotFound($"{spec.Describe(selector)}: the assets directory {assets.NameDirectory(spec.Name)} has {what}"
            + (present.Count > 0 ? $" (newest present: {string.Join(", ", present)})" : "")
            + (remote is null ? ", and no artifact store is configured" : ""));
    }

    private static bool CannotUseStore(StorageException e) => e.IsUnreachable || e.Failure == StorageFailure.Credentials;

    /// <summary>A pinned digest against the local copy: its record when s3pod wrote one, else (files)
    /// its bytes, once, remembered in a record where the directory is writable.</summary>
    private async Task VerifyAsync(LocalAsset local, string? digest, CancellationToken ct)
    {
        if (digest is null) return;
        string? actual = local.Record?.Digest;
        if (actual is null && local.Kind == AssetKind.File)
        {
            actual = await AssetsDirectory.FileDigestAsync(local.Path, ct);
            if (actual == digest)
                assets.TryRecord(new AssetRecord(AssetRecord.CurrentSchema, local.Name, local.Version, "file", actual, new FileInfo(local.Path).Length, "verified in place", clock.GetUtcNow()));
        }
        if (actual is null)
        {
            reporter.Warn($"{local.Name}:{local.Version} at {local.Path} has no s3pod record, so it cannot be checked against {digest}");
            return;
        }
        if (actual != digest)
            throw S3PodException.Integrity($"{local.Name}:{local.Version} at {local.Path} has digest {actual}, but {digest} is pinned; remove it (or use another --assets-dir) so the pinned content is fetched");
    }

    private static string WithSubPath(AssetSpec spec, LocalAsset local)
    {
        if (spec.SubPath is null) return local.Path;
        if (local.Kind == AssetKind.File)
            throw S3PodException.Usage($"{spec.Name}:{local.Version} is a file asset; [{spec.SubPath}] applies to directory assets only");
        return SubPath.ResolveInside(local.Path, spec.SubPath, $"{spec.Name}:{local.Version}");
    }

    private string LocalOverride(AssetSpec spec, string file, string baseDirectory, string source)
    {
        var full = Path.GetFullPath(Config.Settings.ExpandHome(file, env)!, baseDirectory);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw S3PodException.NotFound($"{spec.Name}: {source} names {full}, which does not exist");
        if (spec.SubPath is null) return full;
        if (File.Exists(full)) throw S3PodException.Usage($"{spec.Name}: {source} names the file {full}; [{spec.SubPath}] applies to directories only");
        return SubPath.ResolveInside(full, spec.SubPath, $"{spec.Name}: {full} (from {source})");
    }

    private static AssetResult Overridden(AssetSpec spec, string path, string by, Stopwatch timer) =>
        new(spec.Text, path, "override", File.Exists(path) ? "file" : "directory", SizeOrNull(path), Name: spec.Name, OverriddenBy: by, Seconds: timer.Elapsed.TotalSeconds);

    private async Task<AssetResult> ObjectOverrideAsync(AssetSpec spec, S3Uri uri, FetchOptions options, Stopwatch timer, CancellationToken ct)
    {
        if (spec.SubPath is not null) throw S3PodException.Usage($"{spec.Name} is overridden by the object {uri}; [{spec.SubPath}] applies to directories only");
        var fetched = await objects.FetchAsync(uri, options, ct);
        return FromFetch(spec.Text, fetched, timer) with { Name = spec.Name, OverriddenBy = "manifest" };
    }

    public static AssetResult FromFetch(string spec, ObjectFetch fetched, Stopwatch timer) =>
        new(spec, fetched.Path, fetched.Action, "file", fetched.Record.Size, Uri: fetched.Uri.ToString(), ETag: fetched.Record.ETag,
            Sha256: fetched.Record.Sha256, Checked: fetched.Record.Checked, Seconds: timer.Elapsed.TotalSeconds);

    private static long? SizeOrNull(string path) => File.Exists(path) ? new FileInfo(path).Length : null;

    /// <summary>Where a manifest entry's content is on this machine, without downloading anything.</summary>
    public string? PresentPath(ManifestEntry entry)
    {
        if (entry.File is not null)
        {
            var full = Path.GetFullPath(Config.Settings.ExpandHome(entry.File, env)!, manifest.Directory);
            return File.Exists(full) || Directory.Exists(full) ? full : null;
        }
        if (entry.Uri is not null) return objects.Lookup(entry.Uri) is null ? null : objects.ContentPath(entry.Uri);
        return assets.Find(entry.Name, entry.Version!)?.Path;
    }
}
