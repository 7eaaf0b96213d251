using System.Diagnostics;
using S3Pod.Archive;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;
using S3Pod.Transfers;

namespace S3Pod.Docker;

/// <summary><c>docker save IMAGE | zstd</c> into a key.</summary>
internal sealed record DockerUploadRequest(string Key, string Image, bool Force, int Level);

/// <summary>The key through <c>zstd -d | docker load</c>; on a miss with <see cref="PullOnMiss"/>,
/// <c>docker pull IMAGE</c> and upload it at <see cref="Level"/>.</summary>
internal sealed record DockerDownloadRequest(string Key, string? Image, bool PullOnMiss, int Level);

/// <summary>
/// The <c>docker</c> commands: <c>docker save | zstd | S3</c> and the inverse, streamed end to
/// end with no temp file. The container CLI is a child process (<see cref="DockerCli"/>: docker,
/// podman, anything with save/load/pull).
/// </summary>
internal sealed class DockerService(IObjectStore store, Reporter reporter, DockerCli docker)
{
    public const string Format = "docker-save+zstd/1";

    public async Task<TransferResult> UploadAsync(DockerUploadRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (!request.Force && await store.HeadAsync(request.Key, ct) is not null)
            return TransferResult.ReportSkipped(reporter, request.Key, "docker-upload", null, clock.Elapsed, meanwhile: false);
        var written = await SaveAsync(request.Image, request.Key, request.Level, request.Force, ct);
        if (written is null)
            return TransferResult.ReportSkipped(reporter, request.Key, "docker-upload", null, clock.Elapsed, meanwhile: true);
        return new TransferResult(request.Key, "docker-upload", written.Size, clock.Elapsed.TotalSeconds, Source: request.Image);
    }

    public async Task<TransferResult> DownloadAsync(DockerDownloadRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (request.PullOnMiss && request.Image is null) throw S3PodException.Usage("--pull needs the IMAGE argument");
        await using var hit = await store.OpenReadAsync(request.Key, ReadOptions.Default, ct);
        if (hit is null)
        {
            if (!request.PullOnMiss)
            {
                reporter.Info($"MISS {request.Key}");
                return new TransferResult(request.Key, "miss", 0, clock.Elapsed.TotalSeconds);
            }
            reporter.Info($"MISS {request.Key}; pulling {request.Image}");
            await docker.RunToEndAsync(["pull", request.Image!], ct);
            var written = await SaveAsync(request.Image!, request.Key, request.Level, overwrite: false, ct);
            return new TransferResult(request.Key, "docker-pull", written?.Size ?? 0, clock.Elapsed.TotalSeconds, Source: "pull");
        }
        string loaded;
        using (var progress = reporter.Progress($"download {request.Key}", hit.Info.Size))
        await using (var content = new HashingReadStream(new ProgressStream(hit.Content, progress.Report), hit.Info.Sha256, hit.Info.Size, request.Key))
        {
            loaded = await docker.LoadAsync(stdin => ZstdStreams.DecompressAsync(content, stdin, request.Key, ct), ct);
        }
        reporter.Info($"HIT {request.Key}: {loaded} ({TransferProgress.Size(hit.Info.Size)} in {clock.Elapsed.TotalSeconds:0.00} s)");
        return new TransferResult(request.Key, "docker-download", hit.Info.Size, clock.Elapsed.TotalSeconds, Source: "cache");
    }

    /// <summary>Streams <c>docker save</c> through zstd into the key; null when a create-only write lost.</summary>
    private async Task<ObjectInfo?> SaveAsync(string image, string key, int level, bool overwrite, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var progress = reporter.Progress($"upload {key}", null);
        var outcome = await docker.SaveAsync(image, (stdout, token) => StreamPipe.RunAsync(
            async (output, t) =>
            {
                await using var zstd = ZstdStreams.Compress(output, level);
                await stdout.CopyToAsync(zstd, 1 << 20, t);
            },
            (input, t) => store.PutAsync(key, input, new PutOptions
            {
                Condition = overwrite ? WriteCondition.None : WriteCondition.IfAbsent,
                Metadata = new Dictionary<string, string> { [MetadataKeys.Format] = Format, [MetadataKeys.Image] = image },
                Progress = progress.Report,
            }, t), token), ct);
        if (outcome is not PutOutcome.Written written) return null;
        reporter.Info($"uploaded image {image} -> {key} ({TransferProgress.Size(written.Object.Size)} in {clock.Elapsed.TotalSeconds:0.00} s)");
        return written.Object;
    }
}
