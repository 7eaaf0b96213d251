using System.Diagnostics;
using S3Pod.Archive;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Streams;

namespace S3Pod.Artifacts;

/// <summary>What a spec resolved to: a version record, or the staging head.</summary>
/// <param name="Version">Null for the head.</param>
/// <param name="ResolvedBy">version, partial, latest, alias or head.</param>
/// <param name="Alias">The alias that led here, if any.</param>
/// <param name="Deleted">The version has a tombstone (only <c>info</c> resolves those).</param>
/// <param name="Offline">Answered from the local record cache, with no request.</param>
internal sealed record ResolvedArtifact(string Name, VersionScheme Scheme, string? Version, string ResolvedBy, string? Alias, VersionRecord? Record, HeadRecord? Head, bool Deleted, bool Offline)
{
    public ContentRef Content => Record?.Content ?? Head!.Content;

    /// <summary><c>name:version</c> or <c>name:head</c>, for messages.</summary>
    public string Label => $"{Name}:{Version ?? "head"}";
}

internal sealed partial class ArtifactService
{
    /// <summary>
    /// Resolves a spec to one record. A complete version is looked up directly (one small LIST for its
    /// tombstone, the record from the local copy when there is one); <paramref name="allowCachedPin"/>
    /// answers a complete version whose record was cached before with no request at all (versions are
    /// immutable). Aliases, latest, partial versions and the head always ask the store. An
    /// <c>@sha256:</c> pin that does not match is an integrity failure.
    /// </summary>
    public async Task<ResolvedArtifact> ResolveAsync(ArtifactSpec spec, CancellationToken ct, bool allowCachedPin = false, bool allowDeleted = false)
    {
        var resolved = await ResolveSelectorAsync(spec, allowCachedPin, allowDeleted, ct);
        if (spec.PinnedDigest is { } pin && !resolved.Content.Sha256.Equals(pin, StringComparison.OrdinalIgnoreCase))
            throw S3PodException.Integrity($"{resolved.Label} has digest {resolved.Content.Digest}, not the pinned sha256:{pin}");
        return resolved;
    }

    private async Task<ResolvedArtifact> ResolveSelectorAsync(ArtifactSpec spec, bool allowCachedPin, bool allowDeleted, CancellationToken ct)
    {
        var name = spec.Name;
        if (allowCachedPin && spec.SelectorText is not null && _ledger.Cache.GetArtifact(name) is { } known
            && VersionScheme.All.FirstOrDefault(s => s.Name == known.Scheme) is { } knownScheme
            && knownScheme.TryParse(spec.SelectorText) is { } pinned
            && _ledger.Cache.GetVersion(name, pinned.Text) is { } cachedRecord && cachedRecord.Name == name)
        {
            return new ResolvedArtifact(name, knownScheme, pinned.Text, "version", null, cachedRecord, null, false, Offline: true);
        }

        var scheme = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var selector = Selector.Parse(spec.SelectorText, scheme);
        if (selector is Selector.Head)
        {
            var (head, _) = await _ledger.HeadAsync(name, listed: null, ct) ?? throw S3PodException.NotFound($"{name} has no staged head");
            return new ResolvedArtifact(name, scheme, null, "head", null, null, head, false, false);
        }
        if (selector is Selector.Exact exact)
        {
            var one = await _ledger.ListOneVersionAsync(name, exact.Version.Text, ct);
            return await VersionAsync(one, scheme, exact.Version, "version", null, allowDeleted, ct);
        }

        // Latest and partial versions need only the versions; an alias's listed ETag lets a local copy answer.
        var listing = selector is Selector.Alias ? await _ledger.ListAsync(name, ct) : await _ledger.ListVersionsAsync(name, ct);
        switch (selector)
        {
            case Selector.Latest:
                var latest = listing.Latest(scheme) ?? throw S3PodException.NotFound(listing.Live(scheme).Count > 0
                    ? $"{name} has only pre-release versions; name one (latest is the highest release)"
                    : $"{name} has no versions");
                return await VersionAsync(listing, scheme, latest, "latest", null, false, ct);
            case Selector.Partial partial:
                var match = VersionRules.Max(listing.Live(scheme).Where(partial.Prefix.Matches))
                    ?? throw S3PodException.NotFound($"{name} has no version {partial.Prefix.Text}.x");
                return await VersionAsync(listing, scheme, match, "partial", null, false, ct);
            default:
                var aliasName = ((Selector.Alias)selector).Name;
                var alias = listing.Aliases.TryGetValue(aliasName, out var listed) ? await _ledger.AliasAsync(name, aliasName, listed, ct) : null;
                if (alias is not { Record.Version: { } target }) throw S3PodException.NotFound($"{name} has no alias {aliasName}");
                var version = scheme.TryParse(target) ?? throw S3PodException.Integrity($"alias {aliasName} of {name} points at '{target}', which is not a {scheme.Name} version");
                return await VersionAsync(listing, scheme, version, "alias", aliasName, false, ct);
        }
    }

    private async Task<ResolvedArtifact> VersionAsync(ArtifactListing listing, VersionScheme scheme, ArtifactVersion version, string resolvedBy, string? alias, bool allowDeleted, CancellationToken ct)
    {
        var name = listing.Name;
        if (!listing.Records.ContainsKey(version.Text)) throw S3PodException.NotFound($"{name}:{version} does not exist");
        bool deleted = listing.Tombstones.ContainsKey(version.Text);
        if (deleted && !allowDeleted)
            throw S3PodException.NotFound(alias is null ? $"{name}:{version} was deleted" : $"alias {alias} of {name} points at {version}, which was deleted");
        var record = await _ledger.VersionAsync(name, version.Text, ct) ?? throw S3PodException.NotFound($"{name}:{version} does not exist");
        return new ResolvedArtifact(name, scheme, version.Text, resolvedBy, alias, record, null, deleted, false);
    }

    /// <summary>The local path of the content, fetched once into the content cache (<see cref="ContentCache"/>).</summary>
    public Task<(string Path, bool Downloaded)> MaterialiseAsync(ResolvedArtifact resolved, CancellationToken ct) =>
        _content.MaterialiseAsync(resolved.Content, () => Store, resolved.Label, ct);

    /// <summary>
    /// <c>path</c>: a local path to the content, downloaded and verified once. A digest pin whose
    /// content is cached, or a complete version whose record is cached, needs no request.
    /// </summary>
    public async Task<PathResult> PathAsync(ArtifactSpec spec, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        if (spec.PinnedDigest is { } pin && spec.SelectorText is null && _content.TryGet(pin) is { } local)
        {
            bool directory = Directory.Exists(local);
            return new PathResult(spec.Name, null, "digest", directory ? ContentRef.DirectoryKind : ContentRef.FileKind,
                WithSubPath(local, directory, spec, $"{spec.Name}@sha256:{pin[..12]}"), "sha256:" + pin, false, true, watch.Elapsed.TotalSeconds);
        }
        var resolved = await ResolveAsync(spec, ct, allowCachedPin: true);
        var (path, downloaded) = await MaterialiseAsync(resolved, ct);
        return new PathResult(resolved.Name, resolved.Version, resolved.ResolvedBy, resolved.Content.Kind,
            WithSubPath(path, resolved.Content.IsDirectory, spec, resolved.Label), resolved.Content.Digest, downloaded, resolved.Offline && !downloaded, watch.Elapsed.TotalSeconds);
    }

    private static string WithSubPath(string root, bool isDirectory, ArtifactSpec spec, string label)
    {
        if (spec.SubPath is null) return root;
        if (!isDirectory) throw S3PodException.Usage($"{label} is a file; a [sub/path] applies to directory artifacts only");
        return SubPath.ResolveInside(root, spec.SubPath, label);
    }

    /// <summary>
    /// <c>pull</c>: the content, verified against the record's digest (and the pin), written to the
    /// output atomically: a file beside its name and renamed (with the recorded mode), a directory
    /// staged and moved into place by the archive layer (merged into an existing directory).
    /// <c>[sub/path]</c> extracts only that part of a directory artifact.
    /// </summary>
    public async Task<PullResult> PullAsync(PullRequest request, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var spec = request.Spec;
        var resolved = await ResolveAsync(spec, ct);
        var content = resolved.Content;
        if (spec.SubPath is not null && !content.IsDirectory)
            throw S3PodException.Usage($"{resolved.Label} is a file; a [sub/path] applies to directory artifacts only");
        var dest = request.Output ?? Path.Combine(request.WorkingDirectory, DefaultOutputName(resolved, spec.SubPath));
        if (!content.IsDirectory && Directory.Exists(dest)) dest = Path.Combine(dest, DefaultOutputName(resolved, null));
        var files = await WriteContentAsync(resolved, dest, spec.SubPath, ct);
        _reporter.Info($"pulled {resolved.Label} -> {dest} ({TransferProgress.Size(content.Size)} in {watch.Elapsed.TotalSeconds:0.00} s)");
        return new PullResult(resolved.Name, resolved.Version, resolved.ResolvedBy, content.Kind, dest, content.Digest, content.Size, files, spec.SubPath, watch.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Writes the content of a resolved version at <paramref name="dest"/>, streamed from the store and
    /// verified against the record's digest: a file written beside its name and renamed (with the
    /// recorded mode), a directory unpacked (only <paramref name="subPath"/> when given). Returns
    /// the number of entries of a directory, null for a file. Used by <c>pull</c> and by the assets
    /// directory (which hands a temp path and renames it itself).
    /// </summary>
    public async Task<long?> WriteContentAsync(ResolvedArtifact resolved, string dest, string? subPath, CancellationToken ct)
    {
        var content = resolved.Content;
        await using var reader = await ContentCache.OpenBlobAsync(Store, content, resolved.Label, ct);
        using var progress = _reporter.Progress($"download {resolved.Label}", content.Size);
        var body = new ProgressStream(reader.Content, progress.Report);
        if (!content.IsDirectory)
        {
            await LocalFiles.WriteVerifiedAsync(body, dest, ct, (hash, size) => ContentCache.CheckContent(content, hash, size, resolved.Label));
            if (ModeBits.Parse(content.Mode) is { } mode) _fileSystem.SetPermissions(dest, ModeBits.Restorable(mode));
            return null;
        }
        await using var verified = new HashingReadStream(body, content.Sha256, content.Size, resolved.Label);
        var stats = subPath is null
            ? await TarZstd.UnpackDirectoryAsync(_fileSystem, verified, dest, ct)
            : await UnpackSubPathAsync(verified, subPath, dest, resolved.Label, ct);
        return stats.Files + stats.Symlinks + stats.HardLinks;
    }

    /// <summary>The scheme of an artifact, or null when it does not exist (one small read, or none when cached).</summary>
    public Task<VersionScheme?> SchemeAsync(string name, CancellationToken ct) => _ledger.SchemeAsync(name, ct);

    /// <summary>Extracts the entries at and below <paramref name="subPath"/> so that <paramref name="subPath"/> becomes <paramref name="dest"/>.</summary>
    private async Task<ArchiveStats> UnpackSubPathAsync(Stream archive, string subPath, string dest, string label, CancellationToken ct)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dest));
        var parent = Path.GetDirectoryName(full) ?? throw S3PodException.Usage($"cannot extract into {full}");
        var leaf = Path.GetFileName(full);
        var inside = subPath + "/";
        bool found = false;
        var stats = await TarZstd.UnpackAsync(_fileSystem, archive,
            entry => (parent, entry == subPath ? leaf : leaf + "/" + entry[inside.Length..]), ct,
            include: entry =>
            {
                bool wanted = entry == subPath || entry.StartsWith(inside, StringComparison.Ordinal);
                found |= wanted;
                return wanted;
            });
        if (!found) throw S3PodException.NotFound($"{label} has no {EntryNames.Quote(subPath)}");
        return stats;
    }

    /// <summary>A file's recorded basename when it is a plain file name (it comes from the bucket:
    /// never a path); else, and for directories, the last segment of the sub-path or the name.</summary>
    private string DefaultOutputName(ResolvedArtifact resolved, string? subPath)
    {
        if (subPath is not null) return subPath[(subPath.LastIndexOf('/') + 1)..];
        var basename = resolved.Content.Basename;
        if (!resolved.Content.IsDirectory && basename is { Length: > 0 } and not "." and not ".."
            && basename.IndexOfAny(['/', '\\']) < 0 && !basename.Any(char.IsControl) && _fileSystem.RefuseName(basename) is null)
            return basename;
        return resolved.Name[(resolved.Name.LastIndexOf('/') + 1)..];
    }

    /// <summary><c>cat</c>: a file artifact's content to <paramref name="output"/>, verified as it streams (a mismatch fails at the end, exit 5).</summary>
    public async Task<ResolvedArtifact> CatAsync(ArtifactSpec spec, Stream output, CancellationToken ct)
    {
        var resolved = await ResolveAsync(spec, ct);
        var content = resolved.Content;
        if (content.IsDirectory || spec.SubPath is not null)
            throw S3PodException.Usage($"{resolved.Label} is a directory; cat prints files (use pull or path)");
        if (_content.TryGet(content.Sha256) is { } local && File.Exists(local))
        {
            await using var file = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await file.CopyToAsync(output, ct);
        }
        else
        {
            await using var reader = await ContentCache.OpenBlobAsync(Store, content, resolved.Label, ct);
            await using var verified = new HashingReadStream(reader.Content, content.Sha256, content.Size, resolved.Label);
            await verified.CopyToAsync(output, ct);
        }
        await output.FlushAsync(ct);
        return resolved;
    }

    /// <summary><c>info</c>: the record a spec resolves to and how (a deleted version is shown, marked deleted).</summary>
    public async Task<InfoResult> InfoAsync(ArtifactSpec spec, CancellationToken ct)
    {
        var r = await ResolveAsync(spec, ct, allowDeleted: true);
        return new InfoResult(r.Name, r.Version, r.ResolvedBy, r.Alias, r.Scheme.Name, r.Deleted, r.Record, r.Head);
    }

    /// <summary>
    /// <c>versions</c>: live versions newest first (all with <paramref name="all"/>), with the aliases
    /// pointing at each. One LIST (3 requests for 2,000 versions and their aliases); aliases come from
    /// local copies while their ETags are unchanged, so when nothing changed that is all.
    /// </summary>
    public async Task<VersionsResult> VersionsAsync(string name, bool all, CancellationToken ct)
    {
        var scheme = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var listing = await _ledger.ListAsync(name, ct);
        var aliasesOf = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (aliasName, listed) in listing.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (await _ledger.AliasAsync(name, aliasName, listed, ct) is not { Record: { Removed: false } alias }) continue;
            foreach (var v in new[] { alias.Version, alias.Secondary }.OfType<string>().Distinct())
            {
                if (!aliasesOf.TryGetValue(v, out var list)) aliasesOf[v] = list = [];
                list.Add(aliasName);
            }
        }
        var versions = (all ? listing.Records.Keys.Select(scheme.TryParse).OfType<ArtifactVersion>().ToList() : listing.Live(scheme))
            .OrderDescending()
            .Select(v => new VersionEntry(v.Text, listing.Records[v.Text].LastModified, listing.Tombstones.ContainsKey(v.Text),
                aliasesOf.TryGetValue(v.Text, out var a) ? a : []))
            .ToList();
        return new VersionsResult(name, scheme.Name, listing.Latest(scheme)?.Text, listing.Head is not null, versions);
    }

    /// <summary><c>list</c>: artifact names under a prefix (from the keys: one LIST of <c>artifacts/&lt;prefix&gt;</c>).</summary>
    public async Task<ArtifactListResult> ListAsync(string prefix, CancellationToken ct)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var o in Store.ListAsync(ArtifactLayout.ArtifactsRoot + prefix, ct))
            if (ArtifactLayout.NameOf(o.Key) is { } name && name.StartsWith(prefix, StringComparison.Ordinal)) names.Add(name);
        return new ArtifactListResult(prefix, names.ToList());
    }
}
