using System.Diagnostics;
using S3Pod.Archive;
using S3Pod.Local;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Artifacts;

namespace S3Pod.Assets;

/// <summary>What a bundle holds, at its root as <c>s3pod-bundle.json</c>.</summary>
/// <param name="Objects">The s3:// URIs whose copies (and records) are under <c>objects/</c>.</param>
/// <param name="Assets">The asset versions (and records) under <c>assets/</c>.</param>
internal sealed record BundleIndex(string Schema, DateTimeOffset Created, IReadOnlyList<string> Objects, IReadOnlyList<BundleAsset> Assets)
{
    public const string CurrentSchema = "s3pod.bundle/v1";
    public const string FileName = "s3pod-bundle.json";
}

internal sealed record BundleAsset(string Name, string Version);

/// <summary>
/// Offline bundles for air-gapped runners: <c>pack</c> makes sure every entry
/// of a list is present (fetching what is missing), then writes tar.zst bundles that mirror the cache
/// layout (<c>objects/&lt;bucket&gt;/&lt;key&gt;</c> and <c>objects/.meta/</c> records,
/// <c>assets/&lt;name&gt;/&lt;version&gt;</c> and their records, plus an index); with a size limit
/// the entries are split first-fit, largest first. <c>unpack</c> extracts a bundle into staging (the
/// archive layer refuses unsafe entries and checks the zstd checksums to the end), verifies every
/// object against its sha256, then commits each entry the way a download is committed, under its lock.
/// </summary>
internal sealed class AssetBundles(ObjectCache objects, AssetsDirectory assets, AssetService service, IFileSystem fileSystem, Reporter reporter, TimeProvider clock)
{
    // What a bundle adds to its content, for the size limit: tar headers (a 512-byte header, a PAX
    // header block and padding per entry), the records, the index, and zstd's worst case on
    // incompressible data (under 1/128 extra).
    private const long PerEntryOverhead = 3 * 512 + 4096;
    private const long PerBundleOverhead = 64 * 1024;

    /// <summary>One thing to pack, with the archive inputs it becomes.</summary>
    private sealed record PackItem(string Id, long Cost, long ContentSize, bool IsObject, IReadOnlyList<ArchiveInput> Inputs, S3Uri? Uri, BundleAsset? Asset);

    public async Task<AssetPackResult> PackAsync(IReadOnlyList<string> entries, string output, long? maxSize, int jobs, int level, FetchOptions options, CancellationToken ct)
    {
        var timer = Stopwatch.StartNew();
        var (prefill, fetched) = await service.PrefillAsync(entries, jobs, options, ct);
        if (prefill.Failed.Count > 0)
        {
            var kinds = prefill.Failed.Select(f => f.Kind).Distinct().ToList();
            throw new S3PodException(kinds.Count == 1 ? kinds[0] : FailureKind.Operational,
                $"nothing was packed: {prefill.Failed.Count} of {entries.Count} entries could not be fetched (first: {prefill.Failed[0].Entry}: {prefill.Failed[0].Error})");
        }

        var temp = Directory.CreateTempSubdirectory("s3pod-pack-").FullName;
        try
        {
            var items = new Dictionary<string, PackItem>(StringComparer.Ordinal);
            foreach (var result in fetched)
            {
                var item = ToItem(result!, temp);
                items.TryAdd(item.Id, item);
            }
            var bins = Split(items.Values.ToList(), maxSize);
            var written = new List<AssetBundleFile>();
            for (int i = 0; i < bins.Count; i++)
            {
                var path = bins.Count == 1 ? output : Numbered(output, i + 1);
                written.Add(await WriteBundleAsync(bins[i], path, level, temp, ct));
            }
            var total = written.Sum(b => b.ContentSize);
            reporter.Info($"packed {items.Count} entries ({TransferProgress.Size(total)}) into {written.Count} bundle{(written.Count == 1 ? "" : "s")}: {string.Join(", ", written.Select(b => b.Path))}");
            return new AssetPackResult(written, items.Count, total, timer.Elapsed.TotalSeconds);
        }
        finally
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { /* temp */ }
        }
    }

    private PackItem ToItem(AssetResult result, string temp)
    {
        if (result.Uri is { } text && result.OverriddenBy is null)
        {
            var uri = S3Uri.Parse(text);
            var (content, record) = objects.RelativePaths(uri);
            long size = result.Size ?? 0;
            return new PackItem(text, Round(size) + PerEntryOverhead, size, true,
            [
                new ArchiveInput(Path.Combine(objects.Root, content.Replace('/', Path.DirectorySeparatorChar)), "objects/" + content),
                new ArchiveInput(Path.Combine(objects.Root, record.Replace('/', Path.DirectorySeparatorChar)), "objects/" + record),
            ], uri, null);
        }
        if (result.OverriddenBy is not null || result.Name is null || result.Version is null)
            throw S3PodException.Usage($"{result.Spec} is overridden ({result.OverriddenBy}); a bundle holds pinned versions only");

        var local = assets.Find(result.Name, result.Version)!;
        var entry = $"assets/{result.Name}/{result.Version}";
        var recordEntry = $"assets/{result.Name}/.{result.Version}.s3pod.json";
        var recordFile = Path.Combine(assets.NameDirectory(result.Name), $".{result.Version}.s3pod.json");
        long contentSize = AssetsDirectory.SizeOf(local.Path);
        if (local.Record is null)
        {
            // A hand-placed version: describe it, so the unpacking side has a record too.
            recordFile = Path.Combine(temp, Guid.NewGuid().ToString("N") + ".json");
            AtomicFile.WriteJson(recordFile, new AssetRecord(AssetRecord.CurrentSchema, result.Name, result.Version, AssetRecord.KindName(local.Kind),
                null, contentSize, "bundle", clock.GetUtcNow()), AssetJson.Default.AssetRecord);
        }
        long cost = local.Kind == AssetKind.File ? Round(contentSize) + PerEntryOverhead
            : new DirectoryInfo(local.Path).EnumerateFileSystemInfos("*", SearchOption.AllDirectories).Sum(f => (f is FileInfo fi ? Round(fi.Length) : 0) + PerEntryOverhead) + PerEntryOverhead;
        return new PackItem($"{result.Name}:{result.Version}", cost, contentSize, false,
            [new ArchiveInput(local.Path, entry), new ArchiveInput(recordFile, recordEntry)], null, new BundleAsset(result.Name, result.Version));
    }

    private static long Round(long size) => (size + 511) / 512 * 512;

    /// <summary>First-fit, largest first: each entry goes into the first bundle it fits in. An entry
    /// larger than the limit on its own gets a bundle of its own (said on stderr).</summary>
    private List<List<PackItem>> Split(List<PackItem> items, long? maxSize)
    {
        if (maxSize is null) return [items];
        // The budget for the uncompressed tar, so that even incompressible content stays under the limit.
        long budget = maxSize.Value * 128 / 129 - PerBundleOverhead;
        var bins = new List<(List<PackItem> Items, long Cost)>();
        foreach (var item in items.OrderByDescending(i => i.Cost).ThenBy(i => i.Id, StringComparer.Ordinal))
        {
            int at = bins.FindIndex(b => b.Cost + item.Cost <= budget);
            if (at < 0)
            {
                if (item.Cost > budget) reporter.Warn($"{item.Id} ({TransferProgress.Size(item.ContentSize)}) does not fit in {TransferProgress.Size(maxSize.Value)}; it gets a bundle of its own, over the limit");
                bins.Add(([item], item.Cost));
            }
            else
            {
                bins[at] = (bins[at].Items.Append(item).ToList(), bins[at].Cost + item.Cost);
            }
        }
        return bins.Select(b => b.Items).ToList();
    }

    /// <summary><c>out.tar.zst</c> → <c>out-2.tar.zst</c>.</summary>
    internal static string Numbered(string path, int n)
    {
        var dir = Path.GetDirectoryName(path) ?? "";
        var name = Path.GetFileName(path);
        int dot = name.EndsWith(".tar.zst", StringComparison.OrdinalIgnoreCase) ? name.Length - 8 : name.LastIndexOf('.') is > 0 and var d ? d : name.Length;
        return Path.Combine(dir, $"{name[..dot]}-{n}{name[dot..]}");
    }

    private async Task<AssetBundleFile> WriteBundleAsync(List<PackItem> items, string path, int level, string temp, CancellationToken ct)
    {
        var index = new BundleIndex(BundleIndex.CurrentSchema, clock.GetUtcNow(),
            items.Where(i => i.IsObject).Select(i => i.Uri!.ToString()).Order(StringComparer.Ordinal).ToList(),
            items.Where(i => !i.IsObject).Select(i => i.Asset!).OrderBy(a => a.Name, StringComparer.Ordinal).ThenBy(a => a.Version, StringComparer.Ordinal).ToList());
        var indexFile = Path.Combine(temp, Guid.NewGuid().ToString("N") + ".json");
        AtomicFile.WriteJson(indexFile, index, AssetJson.Default.BundleIndex);
        var inputs = new List<ArchiveInput> { new(indexFile, BundleIndex.FileName) };
        inputs.AddRange(items.OrderBy(i => i.Id, StringComparer.Ordinal).SelectMany(i => i.Inputs));

        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var partial = Path.Combine(dir, $".{Path.GetFileName(full)}.s3pod-{Guid.NewGuid():N}");
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                await TarZstd.PackAsync(fileSystem, inputs, file, level, null, ct);
            }
            File.Move(partial, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot write the bundle {full}: {e.Message}");
        }
        finally
        {
            try { File.Delete(partial); } catch (IOException) { /* moved */ }
        }
        return new AssetBundleFile(full, new FileInfo(full).Length, index.Objects.Count, index.Assets.Count, items.Sum(i => i.ContentSize));
    }

    /// <summary>Loads bundles: objects into the object cache (replacing older copies), asset versions into
    /// the assets directory (kept when present: versions are immutable).</summary>
    public async Task<AssetUnpackResult> UnpackAsync(IReadOnlyList<string> bundles, CancellationToken ct)
    {
        var timer = Stopwatch.StartNew();
        int objectCount = 0, assetCount = 0, present = 0;
        foreach (var bundle in bundles)
        {
            if (!File.Exists(bundle)) throw S3PodException.Usage($"bundle {bundle}: no such file");
            var objectStage = Path.Combine(objects.Root, $".staging-{Guid.NewGuid():N}");
            var assetStage = Path.Combine(assets.Root, "_s3pod", $"staging-{Guid.NewGuid():N}");
            try
            {
                await using (var input = new FileStream(bundle, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
                {
                    // Bundles rebuilt with `tar -c .` also hold "./", "objects/" and "assets/" themselves.
                    await TarZstd.UnpackAsync(fileSystem, input, name =>
                        name is "" or "objects" ? (objectStage, "")
                        : name == "assets" ? (assetStage, "")
                        : name == BundleIndex.FileName ? (objectStage, name)
                        : name.StartsWith("objects/", StringComparison.Ordinal) ? (objectStage, name["objects/".Length..])
                        : name.StartsWith("assets/", StringComparison.Ordinal) ? (assetStage, name["assets/".Length..])
                        : null, ct);
                }
                var index = AtomicFile.TryReadJson(Path.Combine(objectStage, BundleIndex.FileName), AssetJson.Default.BundleIndex);
                if (index is null || index.Schema != BundleIndex.CurrentSchema)
                    throw S3PodException.Integrity($"{bundle} is not an s3pod bundle (no {BundleIndex.FileName} of schema {BundleIndex.CurrentSchema})");

                foreach (var text in index.Objects)
                {
                    var uri = S3Uri.Parse(text, $"{bundle}: object");
                    var (content, recordPath) = objects.RelativePaths(uri);
                    var record = AtomicFile.TryReadJson(Path.Combine(objectStage, recordPath.Replace('/', Path.DirectorySeparatorChar)), AssetJson.Default.CachedObjectRecord)
                        ?? throw S3PodException.Integrity($"{bundle}: the record of {uri} is missing or damaged");
                    if (record.Uri != text) throw S3PodException.Integrity($"{bundle}: the record of {uri} describes {record.Uri}");
                    await objects.ImportAsync(uri, Path.Combine(objectStage, content.Replace('/', Path.DirectorySeparatorChar)), record, ct);
                    objectCount++;
                }
                foreach (var a in index.Assets)
                {
                    var name = AssetSpec.ValidName(a.Name);
                    if (!SchemelessVersion.TryParse(a.Version, out _)) throw S3PodException.Integrity($"{bundle}: '{a.Version}' is not a version");
                    var stagedDir = Path.Combine([assetStage, .. name.Split('/')]);
                    var staged = Path.Combine(stagedDir, a.Version);
                    var record = AtomicFile.TryReadJson(Path.Combine(stagedDir, $".{a.Version}.s3pod.json"), AssetJson.Default.AssetRecord)
                        ?? throw S3PodException.Integrity($"{bundle}: the record of {name}:{a.Version} is missing or damaged");
                    var (_, written) = await assets.MaterializeAsync(name, a.Version, async (temp, token) =>
                    {
                        if (record.AssetKind == AssetKind.File && record.Digest is { } digest && await AssetsDirectory.FileDigestAsync(staged, token) != digest)
                            throw S3PodException.Integrity($"{bundle}: {name}:{a.Version} does not match its digest {digest}");
                        if (Directory.Exists(staged)) Directory.Move(staged, temp);
                        else if (File.Exists(staged)) File.Move(staged, temp);
                        else throw S3PodException.Integrity($"{bundle}: {name}:{a.Version} is listed but not in the bundle");
                        return record;
                    }, ct);
                    if (written) assetCount++;
                    else present++;
                }
                reporter.Info($"unpacked {bundle}: {index.Objects.Count} objects, {index.Assets.Count} asset versions");
            }
            finally
            {
                foreach (var stage in new[] { objectStage, assetStage })
                {
                    try { if (Directory.Exists(stage)) Directory.Delete(stage, recursive: true); }
                    catch (IOException) { /* a later unpack or `asset cache` use removes nothing here; harmless */ }
                }
            }
        }
        return new AssetUnpackResult(bundles.ToList(), objectCount, assetCount, present, timer.Elapsed.TotalSeconds);
    }
}
