using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using S3Pod.Chunks;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Cache;

/// <summary>
/// The outside end of an image entry. The cache stores and gives back one byte stream (the image's
/// <c>docker save</c> tar) and knows nothing of what makes or takes it: Commands wires the container
/// CLI in.
/// </summary>
/// <param name="Reference">The image reference as given; the entry's version derives from it (<see cref="ImageVersions"/>).</param>
/// <param name="IdAsync">The image's ID now: recorded in the manifest, and what <c>save --update</c> compares.</param>
/// <param name="SaveAsync">Runs the export and hands its stream to the callback, which reads it to the end.
/// A failed export must fail that stream before it ends.</param>
/// <param name="LoadAsync">Runs the import, lets the callback write the stream into it, and returns what it
/// reported. When the callback fails, the import must be stopped without seeing a clean end of input.</param>
internal sealed record ImageEndpoint(
    string Reference,
    Func<CancellationToken, Task<string>> IdAsync,
    Func<Func<Stream, CancellationToken, Task>, CancellationToken, Task> SaveAsync,
    Func<Func<Stream, Task>, CancellationToken, Task<string>> LoadAsync);

/// <summary>
/// The version (the part of an entry's name that a path list's digest is for path entries) of an
/// image entry: <c>image-</c> and 16 hex of the sha256 of the normalized reference, so restore keys
/// match entries of the same image (and tag), never path entries, and a save can find the scope's
/// image entries of any image by name alone.
/// </summary>
internal static class ImageVersions
{
    public const string Prefix = "image-";

    public static string Of(string reference) =>
        Prefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("s3pod-cache-image-v1\n" + Normalize(reference))))[..16];

    public static bool IsImage(string version) => version.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Docker's short forms spelled one way: <c>busybox</c>, <c>library/busybox:latest</c> and
    /// <c>docker.io/library/busybox:latest</c> are one image; no tag or digest means <c>:latest</c>.</summary>
    public static string Normalize(string reference)
    {
        var r = reference.Trim();
        if (r.Length == 0 || r.Any(char.IsWhiteSpace))
            throw S3PodException.Usage($"--docker-image '{reference}' is not an image reference");
        foreach (var hub in new[] { "docker.io/", "index.docker.io/" })
            if (r.StartsWith(hub, StringComparison.Ordinal)) r = r[hub.Length..];
        var name = r.Split('@')[0];
        if (name.StartsWith("library/", StringComparison.Ordinal) && name.Count(c => c == '/') == 1) r = r["library/".Length..];
        bool tagged = r.Contains('@') || r[(r.LastIndexOf('/') + 1)..].Contains(':');
        return tagged ? r : r + ":latest";
    }
}

internal sealed partial class CacheService
{
    /// <summary>The last-restore slot shared by every image: a save of one image starts from the
    /// chunks of whichever image this runner restored last (base layers are shared).</summary>
    private const string AnyImageSlot = "docker-images";

    /// <summary>How many of the scope's newest image entries, of any image, an image save reads to
    /// learn what the store has (images built on one base share its layers' chunks).</summary>
    private const int NewestImagesRead = 4;

    /// <summary>
    /// Saves an image as a chunked entry: its <c>docker save</c> tar is streamed into the chunk writer
    /// (content-defined chunks, no re-packing and no temp file), then the manifest is committed as for
    /// a path entry (create-only; <c>--update</c>: compare-and-swap, skipped when the image ID is the
    /// one recorded).
    /// </summary>
    public async Task<SaveResult> SaveImageAsync(SaveRequest request, ImageEndpoint image, CancellationToken ct)
    {
        var clockWatch = Stopwatch.StartNew();
        var scopeName = request.Scope ?? CacheLayout.DefaultScope;
        var version = ImageVersions.Of(image.Reference);
        var manifestKey = CacheLayout.Manifest(request.Scope, request.Key, version);
        SaveResult Skip(string reason, string? id) => new(request.Key, request.Scope, false, reason, 0, 0, 0, clockWatch.Elapsed.TotalSeconds, Image: image.Reference, ImageId: id);

        if (request.Update && !(await store.GetCapabilitiesAsync(ct)).CompareAndSwap)
            throw S3PodException.Operational($"save --update needs compare-and-swap (PUT with If-Match), which {store.Location} does not enforce (see `s3pod doctor`); save under a new key instead");

        var id = await image.IdAsync(ct);
        string? replaceETag = null;
        CacheManifest? current = null;
        if (await store.HeadAsync(manifestKey, ct) is { } existing)
        {
            var entry = await OpenEntryAsync(scopeName, request.Key, version, existing, ct);
            if (entry is not null && !request.Update)
            {
                reporter.Info($"cache {request.Key} already exists in scope {scopeName}; not saving");
                return Skip("exists", entry.Manifest.ImageId);
            }
            if (entry is null) reporter.Warn($"cache {request.Key} in scope {scopeName} is broken (its manifest is unreadable); replacing it");
            current = entry?.Manifest;
            replaceETag = existing.ETag;
        }
        if (current?.ImageId == id)
        {
            reporter.Info($"cache {request.Key} in scope {scopeName} holds image {image.Reference} as it is ({id}); not updating");
            return Skip("unchanged", id);
        }

        await using var intent = await GuardOrDefault.BeginWriteAsync(ct);
        var known = await KnownChunksAsync(scopeName, current is null ? null : manifestKey,
            [ReadLastRestore(version), ReadLastRestore(AnyImageSlot, anyVersion: true)],
            [(v => v == version, NewestEntriesRead), (ImageVersions.IsImage, NewestImagesRead)], ct);
        var upload = await WriteChunksAsync($"save {request.Key}", request.Level, known, intent,
            (writer, token) => image.SaveAsync((exported, t) => CopyOnOwnThreadAsync(exported, new TarMemberCuts(writer), t), token), ct);
        // The ID is what --update compares later: it must be the ID of the bytes just stored.
        var after = await image.IdAsync(ct);
        if (after != id)
            throw S3PodException.Operational($"image {image.Reference} changed while it was being saved ({id} -> {after}); nothing was committed: save again");

        var manifest = new CacheManifest(CacheManifest.ChunkedSchema, CacheManifest.ChunkedFormat, request.Key, scopeName, version, [],
            0, upload.LogicalBytes, upload.StoredBytes, ListDigest(upload), null, null, clock.GetUtcNow(), createdBy, upload.Chunks, null,
            upload.UploadedBytes, upload.UploadedChunks, image.Reference, id);
        return await CommitChunkedAsync(request, manifestKey, manifest, replaceETag, current is not null, upload, clockWatch, $"image {image.Reference}", ct);
    }

    /// <summary>The chunk writer blocks its caller for back-pressure (it is made for the packer's own
    /// thread), so the exported stream is copied on a thread of its own rather than the pool's.</summary>
    private static Task CopyOnOwnThreadAsync(Stream from, Stream to, CancellationToken ct) =>
        Task.Factory.StartNew(() =>
        {
            var buffer = new byte[1 << 20];
            int n;
            // Read(byte[], ...) rather than the Span overload: a wrapping stream's end-of-stream check lives there.
            while ((n = from.Read(buffer, 0, buffer.Length)) > 0)
            {
                ct.ThrowIfCancellationRequested();
                to.Write(buffer, 0, n);
            }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Restores an image entry: exact key, then restore-key prefixes, scope by scope, as for
    /// paths; the chunks are streamed, each verified, into the image import.</summary>
    public async Task<RestoreResult> RestoreImageAsync(RestoreRequest request, ImageEndpoint image, CancellationToken ct)
    {
        var clockWatch = Stopwatch.StartNew();
        var version = ImageVersions.Of(image.Reference);
        await foreach (var candidate in CandidatesAsync(request, version, ct))
        {
            var entry = await OpenEntryAsync(candidate.Scope, candidate.Key, version, candidate.Manifest, ct);
            if (entry is null || entry.Manifest is not { IsChunked: true, Image: not null })
            {
                reporter.Warn($"cache {candidate.Key} in scope {candidate.Scope} is incomplete, not an image entry, or was removed meanwhile; treated as a miss");
                continue;
            }
            bool exact = entry.Key == request.Key;
            var m = entry.Manifest;
            reporter.Info($"HIT {request.Key} -> {entry.Key}{(exact ? "" : " (restore key)")} in scope {entry.Scope}: image {m.Image} ({m.ImageId}), {TransferProgress.Size(m.Size)}");
            if (request.LookupOnly)
                return new RestoreResult(request.Key, entry.Key, exact, entry.Scope, m.Size, false, true, null, clockWatch.Elapsed.TotalSeconds, null, Image: m.Image, ImageId: m.ImageId);

            var loaded = await LoadImageAsync(entry, image, ct);
            if (loaded is null) continue; // a chunk vanished while being read
            await TouchAsync(entry, ct);
            reporter.Info($"restored {entry.Key}: {loaded}, {TransferProgress.Size(m.UncompressedSize)} in {clockWatch.Elapsed.TotalSeconds:0.00} s");
            return new RestoreResult(request.Key, entry.Key, exact, entry.Scope, m.Size, true, false, null, clockWatch.Elapsed.TotalSeconds, null,
                LastDownload?.Fetched, LastDownload?.Cached, m.Image, m.ImageId);
        }
        var miss = await new MissExplainer(store).ExplainAsync(request, version, [], image.Reference, ct);
        reporter.Info($"MISS {request.Key}: {miss.Summary}");
        foreach (var reason in miss.Reasons) reporter.Info($"  {reason}");
        return new RestoreResult(request.Key, null, false, null, null, false, request.LookupOnly, null, clockWatch.Elapsed.TotalSeconds, miss, Image: image.Reference);
    }

    /// <summary><c>explain --docker-image</c>: what a restore of this image would match, and if nothing, why.</summary>
    public async Task<ExplainResult> ExplainImageAsync(RestoreRequest request, string image, CancellationToken ct)
    {
        var version = ImageVersions.Of(image);
        await foreach (var candidate in CandidatesAsync(request, version, ct))
        {
            if (await OpenEntryAsync(candidate.Scope, candidate.Key, version, candidate.Manifest, ct) is { Manifest.Image: not null } entry)
            {
                reporter.Info($"a restore would match {entry.Key} in scope {entry.Scope}{(entry.Key == request.Key ? " (exact key)" : " (restore key)")}: image {entry.Manifest.Image} ({entry.Manifest.ImageId})");
                return new ExplainResult(request.Key, true, entry.Key, entry.Scope, entry.Key == request.Key, null);
            }
        }
        var miss = await new MissExplainer(store).ExplainAsync(request, version, [], image, ct);
        reporter.Info($"MISS {request.Key}: {miss.Summary}");
        foreach (var reason in miss.Reasons) reporter.Info($"  {reason}");
        return new ExplainResult(request.Key, false, null, null, false, miss);
    }

    /// <summary>Streams the entry's chunks into the import; null when a chunk is missing (pruned
    /// meanwhile: a miss). A corrupt chunk fails the read, which stops the import unfinished.</summary>
    private async Task<string?> LoadImageAsync(Entry entry, ImageEndpoint image, CancellationToken ct)
    {
        string loaded;
        long fetched, cached;
        using (var progress = reporter.Progress($"restore {entry.Key}", entry.Manifest.Size))
        {
            await using var reader = new ChunkReader(store, entry.Manifest.Chunks!, ChunkCache, FetchWindow, progress.Report, ct);
            try
            {
                loaded = await image.LoadAsync(input => reader.CopyToAsync(input, 1 << 20, ct), ct);
            }
            catch (ChunkMissingException e)
            {
                reporter.Warn($"cache {entry.Key} lost a chunk while it was being restored ({e.Message}: pruned meanwhile?); treated as a miss");
                return null;
            }
            fetched = reader.FetchedBytes;
            cached = reader.CachedBytes;
        }
        _lastDownload = (fetched, cached);
        ChunkCache?.Trim();
        WriteLastRestore(entry, entry.Version);
        WriteLastRestore(entry, AnyImageSlot);
        return loaded;
    }
}
