using System.Diagnostics;
using S3Pod.Archive;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;
using S3Pod.Transfers;

namespace S3Pod.Files;

/// <summary>Fetch a file: from the store, else from <see cref="Url"/> (then cached).</summary>
/// <param name="Key">Store key (arch suffix already applied).</param>
/// <param name="Destination">Absolute path of the file to write.</param>
/// <param name="Url">http(s) fallback on a miss, or null.</param>
/// <param name="ExpectedSha256">Lower-case hex the file must have (on a hit and from the URL), or null.</param>
internal sealed record DownloadRequest(string Key, string Destination, string? Url, string? ExpectedSha256);

/// <summary>Store a file's raw bytes under a key.</summary>
/// <param name="Force">Overwrite an existing object instead of skipping.</param>
internal sealed record UploadRequest(string Key, string Source, bool Force);

internal sealed record ExistsResult(string Key, bool Exists, long? Size, DateTimeOffset? LastModified);

internal sealed record ListEntry(string Key, long Size, DateTimeOffset LastModified);

internal sealed record ListResult(string Prefix, IReadOnlyList<ListEntry> Objects);

internal sealed record DeleteResult(string Key, bool Deleted);

/// <summary>
/// The single-file commands as a service: download (fetch-or-download with sha256 checks and
/// cache-back), upload, exists, list, delete. Objects are stored as their raw bytes with their sha256
/// as metadata, so other S3 tools read them.
/// </summary>
internal sealed class FileService(IObjectStore store, HttpClient http, Reporter reporter, IFileSystem fileSystem, NetworkPolicy network)
{
    public async Task<TransferResult> DownloadAsync(DownloadRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (Directory.Exists(request.Destination)) throw S3PodException.Usage($"destination {request.Destination} is a directory");
        await using (var hit = await store.OpenReadAsync(request.Key, ReadOptions.Default, ct))
        {
            if (hit is not null)
            {
                using var progress = reporter.Progress($"download {request.Key}", hit.Info.Size);
                await using var content = new ProgressStream(hit.Content, progress.Report);
                var actual = await LocalFiles.WriteVerifiedAsync(content, request.Destination, ct, (hash, size) =>
                {
                    if (size != hit.Info.Size)
                        throw S3PodException.Integrity($"{request.Key}: got {size} bytes, expected {hit.Info.Size}; {request.Destination} left untouched");
                    if (hit.Info.Sha256 is { } recorded && !recorded.Equals(hash, StringComparison.OrdinalIgnoreCase))
                        throw S3PodException.Integrity($"{request.Key}: sha256 mismatch (stored object {hash}, recorded {recorded}); {request.Destination} left untouched");
                    if (request.ExpectedSha256 is { } expected && expected != hash)
                        throw S3PodException.Integrity($"{request.Key}: sha256 {hash} does not match --sha256 {expected}; {request.Destination} left untouched");
                });
                reporter.Info($"HIT {request.Key} -> {request.Destination} ({TransferProgress.Size(hit.Info.Size)} in {clock.Elapsed.TotalSeconds:0.00} s)");
                return new TransferResult(request.Key, "download", hit.Info.Size, clock.Elapsed.TotalSeconds, actual, "cache", request.Destination);
            }
        }

        if (request.Url is null)
        {
            reporter.Info($"MISS {request.Key} (no --url given)");
            return new TransferResult(request.Key, "miss", 0, clock.Elapsed.TotalSeconds, Path: request.Destination);
        }

        var shown = RedactUrl(request.Url);
        reporter.Info($"MISS {request.Key}; downloading {shown}");
        var (hashHex, bytes) = await DownloadUrlAsync(request, shown, ct);

        // The file is in place; failing to cache it only costs the next run a download.
        try
        {
            await using var file = new FileStream(request.Destination, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var outcome = await store.PutAsync(request.Key, new HashingReadStream(file, hashHex, bytes, request.Destination, FailureKind.Operational), new PutOptions
            {
                Condition = WriteCondition.IfAbsent,
                Length = bytes,
                Metadata = new Dictionary<string, string> { [MetadataKeys.Sha256] = hashHex },
            }, ct);
            reporter.Info(outcome is PutOutcome.Written ? $"cached {request.Key} ({TransferProgress.Size(bytes)})" : $"{request.Key} was cached meanwhile by another job");
        }
        catch (S3PodException e)
        {
            reporter.Warn($"downloaded {request.Destination} but could not cache it: {e.Message}");
        }
        return new TransferResult(request.Key, "download", bytes, clock.Elapsed.TotalSeconds, hashHex, "url", request.Destination);
    }

    /// <summary>GETs the URL into the destination, verified; a network failure or a timeout (every
    /// wait bounded by a <see cref="TransferWatchdog"/>) is retried from the start with backoff, an
    /// HTTP error status is not.</summary>
    private async Task<(string Sha256, long Size)> DownloadUrlAsync(DownloadRequest request, string shown, CancellationToken ct)
    {
        var retry = new RetryPolicy(network);
        for (int attempt = 1; ; attempt++)
        {
            using var watchdog = new TransferWatchdog(network.IdleTimeout, network.FirstByteTimeout, TimeProvider.System, ct, TransferWatchdog.Stage.AwaitingResponse);
            try
            {
                TransferWatchdog.Current.Value = watchdog;
                return await DownloadUrlOnceAsync(request, shown, watchdog, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or IOException or OperationCanceledException && e is not S3PodException)
            {
                var why = watchdog.Expired ?? (e is OperationCanceledException ? "cancelled" : e.Message.ReplaceLineEndings(" "));
                if (attempt >= retry.Attempts)
                    throw S3PodException.Operational($"cannot download {shown}: {why}{(attempt > 1 ? $" ({attempt} attempts)" : "")}; nothing written or cached", e);
                reporter.Warn($"download of {shown} failed ({why}); retrying");
                await Task.Delay(RetryPolicy.Delay(attempt, throttled: false), ct);
            }
        }
    }

    private async Task<(string Sha256, long Size)> DownloadUrlOnceAsync(DownloadRequest request, string shown, TransferWatchdog watchdog, CancellationToken ct)
    {
        using var response = await http.GetAsync(request.Url, HttpCompletionOption.ResponseHeadersRead, watchdog.Token);
        if (!response.IsSuccessStatusCode)
            throw S3PodException.Operational($"cannot download {shown}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        using var progress = reporter.Progress($"download {shown}", response.Content.Headers.ContentLength);
        await using var body = new ProgressStream(watchdog.WatchResponseBody(await response.Content.ReadAsStreamAsync(watchdog.Token)), progress.Report);
        long got = 0;
        var hash = await LocalFiles.WriteVerifiedAsync(body, request.Destination, ct, (h, size) =>
        {
            got = size;
            if (response.Content.Headers.ContentLength is { } announced && announced != size)
                throw new HttpRequestException($"the server sent {size} of {announced} bytes");
            if (request.ExpectedSha256 is { } expected && expected != h)
                throw S3PodException.Integrity($"{shown}: sha256 {h} does not match --sha256 {expected}; nothing written or cached");
        });
        return (hash, got);
    }

    public async Task<TransferResult> UploadAsync(UploadRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        LocalFiles.CheckRegularFile(fileSystem, request.Source);
        if (!request.Force && await store.HeadAsync(request.Key, ct) is not null)
            return TransferResult.ReportSkipped(reporter, request.Key, "upload", request.Source, clock.Elapsed, meanwhile: false);
        var source = await LocalFiles.OpenSourceAsync(fileSystem, request.Source, ct);
        await using (source.Stream)
        {
            using var progress = reporter.Progress($"upload {request.Key}", source.Length);
            // Read again through a check of the length and digest taken above: a file that changes now
            // fails the upload (nothing is stored) instead of storing bytes that contradict their digest.
            var outcome = await store.PutAsync(request.Key, new HashingReadStream(source.Stream, source.Sha256, source.Length, source.Path, FailureKind.Operational), new PutOptions
            {
                Condition = request.Force ? WriteCondition.None : WriteCondition.IfAbsent,
                Length = source.Length,
                Metadata = new Dictionary<string, string> { [MetadataKeys.Sha256] = source.Sha256 },
                Progress = progress.Report,
            }, ct);
            if (outcome is PutOutcome.PreconditionFailed)
                return TransferResult.ReportSkipped(reporter, request.Key, "upload", request.Source, clock.Elapsed, meanwhile: true);
        }
        reporter.Info($"uploaded {request.Source} -> {request.Key} ({TransferProgress.Size(source.Length)} in {clock.Elapsed.TotalSeconds:0.00} s)");
        return new TransferResult(request.Key, "upload", source.Length, clock.Elapsed.TotalSeconds, source.Sha256, Path: request.Source);
    }

    public async Task<ExistsResult> ExistsAsync(string key, CancellationToken ct)
    {
        var info = await store.HeadAsync(key, ct);
        return new ExistsResult(key, info is not null, info?.Size, info?.LastModified);
    }

    public async Task<ListResult> ListAsync(string prefix, CancellationToken ct)
    {
        var entries = new List<ListEntry>();
        await foreach (var o in store.ListAsync(prefix, ct)) entries.Add(new ListEntry(o.Key, o.Size, o.LastModified));
        return new ListResult(prefix, entries);
    }

    public async Task<DeleteResult> DeleteAsync(string key, CancellationToken ct)
    {
        bool deleted = await store.DeleteAsync(key, ct) == DeleteOutcome.Deleted;
        reporter.Info(deleted ? $"deleted {key}" : $"{key} not found");
        return new DeleteResult(key, deleted);
    }

    /// <summary>URLs may carry tokens in their query or user info: show only scheme, host and path.</summary>
    internal static string RedactUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Host}{(u.IsDefaultPort ? "" : ":" + u.Port)}{u.AbsolutePath}" : "(url)";
}
