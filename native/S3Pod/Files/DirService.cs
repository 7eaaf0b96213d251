using System.Diagnostics;
using S3Pod.Archive;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;
using S3Pod.Transfers;

namespace S3Pod.Files;

/// <summary>Stream a directory as tar+zstd into a key.</summary>
/// <param name="Force">Overwrite an existing object instead of skipping.</param>
/// <param name="Level">zstd level 1-19.</param>
internal sealed record DirUploadRequest(string Key, string Directory, bool Force, int Level);

/// <summary>Restore a key's tar+zstd into a directory (merged into what is there).</summary>
internal sealed record DirDownloadRequest(string Key, string Directory);

/// <summary>
/// <c>dir upload/download</c>: a directory as one standard tar.zst object
/// (<c>aws s3 cp s3://b/k - | zstd -d | tar -x</c> restores it), streamed both ways with no temp file.
/// </summary>
internal sealed class DirService(IObjectStore store, Reporter reporter, IFileSystem fileSystem)
{
    public const string Format = "dir+tar+zstd/1";

    public async Task<TransferResult> UploadAsync(DirUploadRequest request, CancellationToken ct)
    {
        if (!Directory.Exists(request.Directory)) throw S3PodException.Usage($"{request.Directory} is not a directory");
        var clock = Stopwatch.StartNew();
        if (!request.Force && await store.HeadAsync(request.Key, ct) is not null)
            return TransferResult.ReportSkipped(reporter, request.Key, "dir-upload", request.Directory, clock.Elapsed, meanwhile: false);
        ArchiveStats? stats = null;
        using var progress = reporter.Progress($"upload {request.Key}", null);
        var outcome = await StreamPipe.RunAsync(
            async (output, token) => stats = await TarZstd.PackDirectoryAsync(fileSystem, request.Directory, output, request.Level, token),
            (input, token) => store.PutAsync(request.Key, input, new PutOptions
            {
                Condition = request.Force ? WriteCondition.None : WriteCondition.IfAbsent,
                Metadata = new Dictionary<string, string> { [MetadataKeys.Format] = Format },
                Progress = progress.Report,
            }, token), ct);
        if (outcome is not PutOutcome.Written written)
            return TransferResult.ReportSkipped(reporter, request.Key, "dir-upload", request.Directory, clock.Elapsed, meanwhile: true);
        reporter.Info($"uploaded {request.Directory} -> {request.Key}: {stats!.Files} files, {TransferProgress.Size(stats.UncompressedBytes)} -> {TransferProgress.Size(written.Object.Size)} in {clock.Elapsed.TotalSeconds:0.00} s");
        return new TransferResult(request.Key, "dir-upload", written.Object.Size, clock.Elapsed.TotalSeconds, Path: request.Directory, Files: stats.Files, UncompressedSize: stats.UncompressedBytes);
    }

    public async Task<TransferResult> DownloadAsync(DirDownloadRequest request, CancellationToken ct)
    {
        if (File.Exists(request.Directory)) throw S3PodException.Usage($"{request.Directory} exists and is not a directory");
        var clock = Stopwatch.StartNew();
        await using var hit = await store.OpenReadAsync(request.Key, ReadOptions.Default, ct);
        if (hit is null)
        {
            reporter.Info($"MISS {request.Key}");
            return new TransferResult(request.Key, "miss", 0, clock.Elapsed.TotalSeconds, Path: request.Directory);
        }
        ArchiveStats stats;
        using (var progress = reporter.Progress($"download {request.Key}", hit.Info.Size))
        await using (var content = new HashingReadStream(new ProgressStream(hit.Content, progress.Report), hit.Info.Sha256, hit.Info.Size, request.Key))
        {
            stats = await TarZstd.UnpackDirectoryAsync(fileSystem, content, request.Directory, ct);
        }
        reporter.Info($"HIT {request.Key} -> {request.Directory}: {stats.Files} files, {TransferProgress.Size(stats.UncompressedBytes)} in {clock.Elapsed.TotalSeconds:0.00} s");
        return new TransferResult(request.Key, "dir-download", hit.Info.Size, clock.Elapsed.TotalSeconds, Path: request.Directory, Files: stats.Files, UncompressedSize: stats.UncompressedBytes);
    }
}
