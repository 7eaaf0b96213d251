using System.Diagnostics;
using System.Text.RegularExpressions;
using S3Pod.Artifacts;
using S3Pod.Local;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Assets;

/// <summary>What <c>asset add</c> / <c>asset update</c> push.</summary>
/// <param name="Path">The manifest key as given (<c>/foo/bar.csv</c> or <c>some/asset</c>).</param>
/// <param name="Source">Absolute path of the file or directory.</param>
/// <param name="Add">add (the path must not be in the manifest) rather than update (it must be).</param>
/// <param name="Bump">--major / --minor / --patch, or null.</param>
/// <param name="Version">--version V: exactly this version (semver: <c>4</c> and <c>3.7</c> are padded to 4.0.0 and 3.7.0).</param>
/// <param name="MinVersion">--min-version V: at least this version (latest 3.4.5 with 4 gives 4.0.0).</param>
internal sealed record AssetPublishRequest(string Path, string Source, bool Add, SemverBump? Bump, string? Version, string? MinVersion, int Level);

/// <summary>
/// The asset commands that need the artifact store: add and update (push a version through the
/// ledger, then pin it in the manifest), the store's versions and assets, sync of every manifest
/// entry, and the store's half of the CI check. An asset is the artifact of the same name
/// (<see cref="ArtifactAssetSource"/>).
/// </summary>
internal sealed partial class AssetLedgerService(
    AssetResolver resolver,
    AssetService service,
    ManifestFile manifest,
    AssetsDirectory assets,
    ArtifactAssetSource? ledger,
    Reporter reporter)
{
    /// <summary>Entries checked or listed against the store at once.</summary>
    private const int StoreJobs = 16;

    private ArtifactAssetSource Ledger(string command) => ledger
        ?? throw S3PodException.Usage($"`s3pod asset {command}` needs an artifact store: configure a bucket (--bucket or S3POD_BUCKET, with --endpoint for a non-AWS server) as for `s3pod artifact`");

    /// <summary>
    /// Pushes a new immutable version and pins it. The version follows the REMOTE latest, not the
    /// manifest (another branch may have pushed since), and the ledger's create-only records make it
    /// strictly increasing and unique under concurrent updates. The manifest is then re-read and
    /// written under a lock, in one rename, and never moved backwards: when a concurrent update
    /// pinned a higher version first, that pin stays and this result says Pinned = false.
    /// </summary>
    public async Task<AssetPublishResult> PublishAsync(AssetPublishRequest request, CancellationToken ct)
    {
        var timer = Stopwatch.StartNew();
        var command = request.Add ? "add" : "update";
        var name = AssetSpec.ValidName(request.Path);
        var existing = manifest.Current?.Find(name);
        if (request.Add && existing is not null)
            throw S3PodException.Conflict($"{existing.Key} is already in the manifest {manifest.Path} (at {existing.Value}); use `s3pod asset update`");
        if (!request.Add && existing is null)
            throw S3PodException.NotFound($"{request.Path} is not in the manifest {manifest.Path}; use `s3pod asset add`");
        if (!request.Add && request.Bump is null && request.Version is null)
            throw S3PodException.Usage("asset update needs --major, --minor, --patch or --version (what should the new version be?)");
        var source = Ledger(command);
        var artifacts = source.Artifacts;
        var scheme = await artifacts.SchemeAsync(name, ct);
        var versionRequest = VersionFor(scheme ?? VersionScheme.Semver, request, name);
        var pushed = await artifacts.PushAsync(new PushRequest(name, request.Source, scheme is null ? ArtifactAssetSource.Scheme : null, versionRequest,
            [], new Dictionary<string, string>(), null, request.Level), ct);

        bool pinned;
        // The lock lives next to the manifest, not in the assets directory: the manifest is what
        // processes with different HOME, cache or assets directories (two CI jobs in one checkout) share.
        using (await FileLock.AcquireAsync(ManifestLockPath(manifest.Path), $"the manifest {manifest.Path}", ct))
        {
            // Re-read: another update may have written it since this one started.
            var current = AssetManifest.Load(manifest.Path) ?? new AssetManifest(manifest.Path, ManifestFormat.S3Pod);
            var entry = current.Find(name);
            pinned = !(entry?.Version is { } theirs && SchemelessVersion.TryParse(theirs, out var t) && SchemelessVersion.TryParse(pushed.Version, out var ours) && t.CompareTo(ours) > 0);
            if (pinned)
            {
                // A flat file stays flat (other tools read it): the digest is kept in the s3pod shape only.
                current.Set(new ManifestEntry(entry?.Key ?? request.Path, name, pushed.Version, current.Format == ManifestFormat.Baiji ? null : pushed.Digest,
                    null, null, entry?.Extra));
                current.Save();
            }
            else reporter.Warn($"{name}:{pushed.Version} is pushed, but the manifest already pins the higher {entry!.Version} (a concurrent update); left as it is");
        }
        reporter.Info(pinned ? $"{manifest.Path}: {request.Path} -> {pushed.Version}" : $"{manifest.Path}: {request.Path} stays at the higher version pinned meanwhile");
        return new AssetPublishResult(manifest.Path, existing?.Key ?? request.Path, name, pushed.Version, existing?.Value,
            pushed.Digest, pushed.Kind, pushed.ContentSize ?? pushed.Size, pinned, pushed.Uploaded, pushed.Attempts, timer.Elapsed.TotalSeconds);
    }

    /// <summary>The lock file of a manifest: <c>&lt;manifest&gt;.lock</c> beside it (kept: removing a lock
    /// file others may have opened would let two holders in).</summary>
    internal static string ManifestLockPath(string manifestPath) => Path.GetFullPath(manifestPath) + ".lock";

    /// <summary>The ledger's version request for the asset's scheme: semver (assets' own) takes the
    /// bumps and --min-version; an artifact made by hand with another scheme takes what it can.</summary>
    private static VersionRequest VersionFor(VersionScheme scheme, AssetPublishRequest r, string name)
    {
        if (r.Version is { } v)
        {
            if (r.Bump is not null) throw S3PodException.Usage("--version names the version; it cannot be combined with --major, --minor or --patch");
            return new VersionRequest(Explicit: scheme == VersionScheme.Semver ? Padded(v) : v, MinVersion: r.MinVersion);
        }
        if (scheme == VersionScheme.Semver) return new VersionRequest(Bump: r.Bump, MinVersion: r.MinVersion);
        if (scheme == VersionScheme.MajorMinor && r.Bump is not SemverBump.Patch)
            return new VersionRequest(BumpMajor: r.Bump is SemverBump.Major, MinVersion: r.MinVersion);
        if (r.Bump is null) return new VersionRequest(MinVersion: r.MinVersion);
        throw S3PodException.Usage($"{name} uses the {scheme.Name} scheme (it was created as an artifact with it): --{r.Bump.ToString()!.ToLowerInvariant()} does not apply; use --version");
    }

    /// <summary>A short version padded to semver: <c>4</c> → 4.0.0, <c>3.7</c> → 3.7.0.</summary>
    private static string Padded(string v) =>
        OneNumber().IsMatch(v) ? v + ".0.0" : TwoNumbers().IsMatch(v) ? v + ".0" : v;

    [GeneratedRegex(@"^[0-9]+$")]
    private static partial Regex OneNumber();

    [GeneratedRegex(@"^[0-9]+\.[0-9]+$")]
    private static partial Regex TwoNumbers();

    public async Task<AssetVersionsResult> VersionsAsync(string path, CancellationToken ct)
    {
        var name = AssetSpec.ValidName(path);
        var result = await Ledger("versions").Artifacts.VersionsAsync(name, all: false, ct);
        var pinned = manifest.Current?.Find(name)?.Version;
        return new AssetVersionsResult(path, name, result.Scheme, result.Latest, pinned,
            result.Versions.Select(v => new AssetVersionEntry(v.Version, v.Created, v.Version == pinned, assets.Find(name, v.Version) is not null, v.Aliases)).ToList());
    }

    /// <summary>Every asset (artifact) in the store under <paramref name="prefix"/>, with its latest version: one LIST, then one per asset, 16 at a time.</summary>
    public async Task<AssetRemoteListResult> ListRemoteAsync(string prefix, CancellationToken ct)
    {
        var source = Ledger("ls-remote");
        var names = (await source.Artifacts.ListAsync(prefix, ct)).Artifacts;
        var entries = new AssetRemoteEntry?[names.Count];
        var pins = manifest.Current;
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = StoreJobs, CancellationToken = ct }, async (i, token) =>
        {
            try
            {
                var v = await source.Artifacts.VersionsAsync(names[i], all: false, token);
                entries[i] = new AssetRemoteEntry(names[i], v.Scheme, v.Latest, pins?.Find(names[i])?.Version);
            }
            catch (S3PodException e) when (e.Kind == FailureKind.NotFound)
            {
                // Keys without an _artifact.json (a push that crashed before creating it): not an asset.
            }
        });
        return new AssetRemoteListResult(source.Location, prefix, entries.OfType<AssetRemoteEntry>().ToList());
    }

    /// <summary>
    /// Materialises every manifest entry, <paramref name="jobs"/> at a time, each as <c>asset path</c>
    /// would (pinned and present: no request; absent: downloaded once, verified, renamed into place).
    /// Every failure is collected; none stops the others. With <paramref name="prune"/>, and only when
    /// every entry succeeded (an old version may be all an offline run has), the other versions of the
    /// manifest's assets are then removed from the assets directory: for a directory that belongs to
    /// this manifest (a CI job's, kept by the cache), which would otherwise grow with every bump.
    /// Assets the manifest does not name are left alone.
    /// </summary>
    public async Task<AssetSyncResult> SyncAsync(int jobs, FetchOptions options, CancellationToken ct, bool prune = false)
    {
        var m = manifest.Current ?? throw S3PodException.Usage($"no manifest at {manifest.Path} to sync (name one with --manifest or S3POD_MANIFEST)");
        var entries = m.Entries.ToList();
        var done = new AssetSyncEntry?[entries.Count];
        var failed = new AssetSyncFailure?[entries.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Count), new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = ct }, async (i, token) =>
        {
            var e = entries[i];
            try
            {
                var r = await resolver.ResolveAsync("/" + e.Name, options, token);
                long? size = r.Size ?? (r.Version is { } v ? assets.Find(e.Name, v)?.Record?.Size : null) ?? AssetsDirectory.SizeOf(r.Path);
                done[i] = new AssetSyncEntry(e.Key, e.Name, r.Version, r.Digest ?? r.Sha256, r.Path, r.Action == "download", size);
            }
            catch (S3PodException ex)
            {
                failed[i] = new AssetSyncFailure(e.Key, ex.Message, ex.Kind);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failed[i] = new AssetSyncFailure(e.Key, ex.Message, FailureKind.Operational);
            }
        });
        var ok = done.OfType<AssetSyncEntry>().ToList();
        var failures = failed.OfType<AssetSyncFailure>().ToList();
        if (failures.Count > 0)
        {
            reporter.Error($"{failures.Count} of {entries.Count} manifest entries failed:");
            foreach (var f in failures) reporter.Info($"  {f.Path}: {f.Error}");
        }
        int downloaded = ok.Count(x => x.Downloaded);
        var pruned = new List<string>();
        if (prune && failures.Count == 0)
        {
            foreach (var byName in ok.Where(x => x.Version is not null).GroupBy(x => x.Name, StringComparer.Ordinal))
            {
                var keep = byName.Select(x => x.Version!).ToHashSet(StringComparer.Ordinal);
                foreach (var version in assets.Versions(byName.Key).Select(v => v.Text).Where(v => !keep.Contains(v)))
                    if (await assets.RemoveAsync(byName.Key, version, ct)) pruned.Add($"{byName.Key}:{version}");
            }
            if (pruned.Count > 0) reporter.Info($"pruned {pruned.Count} version{(pruned.Count == 1 ? "" : "s")} the manifest no longer pins: {string.Join(", ", pruned)}");
        }
        return new AssetSyncResult(m.FilePath, assets.Root, ok, downloaded, ok.Count - downloaded, failures, pruned);
    }

    /// <summary>
    /// The CI guard: overrides (<see cref="AssetService.Check"/>), and, with a store, every pinned
    /// version asked of the store (not the local record cache: a version may have been deleted): it
    /// must exist as exactly that version (a partial pin such as <c>1.2</c> of a semver asset is
    /// missing) and have the pinned digest. A store that cannot be reached is an error, not a pass.
    /// </summary>
    public async Task<AssetCheckResult> CheckAsync(CancellationToken ct)
    {
        var local = service.Check();
        var problems = local.Problems.ToList();
        var warnings = local.Warnings.ToList();
        if (ledger is null)
        {
            warnings.Add("no artifact store is configured: checked overrides only, not whether the pinned versions exist");
        }
        else
        {
            var pins = manifest.Require().Entries.Where(e => e.Version is not null).ToList();
            var found = new AssetProblem?[pins.Count];
            await Parallel.ForEachAsync(Enumerable.Range(0, pins.Count), new ParallelOptions { MaxDegreeOfParallelism = StoreJobs, CancellationToken = ct }, async (i, token) =>
            {
                var e = pins[i];
                try
                {
                    var r = await ledger.Artifacts.ResolveAsync(new ArtifactSpec(e.Name, e.Version, null, null), token);
                    if (r.Version != e.Version)
                        found[i] = new AssetProblem(e.Key, e.Name, "missing", $"'{e.Key}' pins {e.Version}, which is not a version of {e.Name} in {ledger.Location} ({e.Version} would resolve to {r.Version}; pin exact versions)");
                    else if (e.Digest is not null && e.Digest != r.Content.Digest)
                        found[i] = new AssetProblem(e.Key, e.Name, "digest-mismatch", $"'{e.Key}' pins {e.Version} with digest {e.Digest}, but the store has {r.Content.Digest}");
                }
                catch (S3PodException ex) when (ex.Kind == FailureKind.NotFound)
                {
                    found[i] = new AssetProblem(e.Key, e.Name, "missing", $"'{e.Key}' pins {e.Version}, which is not in {ledger.Location}: {ex.Message}");
                }
                catch (StorageException ex) when (ex.IsUnreachable || ex.Failure == StorageFailure.Credentials)
                {
                    throw S3PodException.Offline($"cannot check the pinned versions against {ledger.Location}: {ex.Message}", ex);
                }
            });
            problems.AddRange(found.OfType<AssetProblem>());
        }
        foreach (var w in warnings) reporter.Warn(w);
        foreach (var p in problems) reporter.Error($"{local.Manifest}: {p.Detail}");
        return new AssetCheckResult(local.Manifest, problems.Count == 0, problems, warnings, ledger?.Location);
    }
}
