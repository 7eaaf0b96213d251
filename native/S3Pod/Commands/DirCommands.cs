using System.CommandLine;
using System.Diagnostics;
using S3Pod.Archive;
using S3Pod.Cache;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>ci-cacher's <c>dir upload/download</c>: a directory as a standard tar.zst object
/// (<c>aws s3 cp s3://b/k - | zstd -d | tar -x</c> restores it).</summary>
internal static class DirCommands
{
    public static Command Create(CliApp app)
    {
        var dir = new Command("dir", "Cache a directory as a tar.zst object");
        dir.Subcommands.Add(Upload(app));
        dir.Subcommands.Add(Download(app));
        return dir;
    }

    private static Command Upload(CliApp app)
    {
        var key = new Argument<string>("key");
        var path = new Argument<string>("dir");
        var force = new Option<bool>("--force") { Description = "Overwrite an existing object" };
        var level = CacheCommands.LevelOption();
        var command = new Command("upload", "Stream DIR as tar+zstd to KEY (skipped when KEY exists, unless --force)") { key, path, force, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var source = ctx.ResolvePath(ctx.Parse.GetValue(path)!);
            int lvl = CacheCommands.ValidLevel(ctx.Parse.GetValue(level));
            bool overwrite = ctx.Parse.GetValue(force);
            if (!Directory.Exists(source)) throw S3PodException.Usage($"{source} is not a directory");
            var clock = Stopwatch.StartNew();
            if (!overwrite && await ctx.Store.HeadAsync(storeKey, ct) is not null)
                return ctx.SkippedUpload(storeKey, "dir-upload", source, clock.Elapsed, meanwhile: false);
            ArchiveStats? stats = null;
            using var progress = ctx.Reporter.Progress($"upload {storeKey}", null);
            try
            {
                var info = await StreamPipe.RunAsync(
                    async (output, token) => stats = await TarZstd.PackDirectoryAsync(ctx.FileSystem, source, output, lvl, token),
                    (input, token) => ctx.Store.PutAsync(storeKey, input, new PutOptions
                    {
                        Condition = overwrite ? WriteCondition.None : WriteCondition.IfAbsent,
                        Metadata = new Dictionary<string, string> { ["s3pod-format"] = "dir+tar+zstd/1" },
                        Progress = progress.Report,
                    }, token), ct);
                ctx.Reporter.Info($"uploaded {source} -> {storeKey}: {stats!.Files} files, {TransferProgress.Size(stats.UncompressedBytes)} -> {TransferProgress.Size(info.Size)} in {clock.Elapsed.TotalSeconds:0.00} s");
                if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "dir-upload", info.Size, clock.Elapsed.TotalSeconds, Path: source, Files: stats.Files, UncompressedBytes: stats.UncompressedBytes), S3PodJson.Default.TransferResult);
            }
            catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict && !overwrite)
            {
                return ctx.SkippedUpload(storeKey, "dir-upload", source, clock.Elapsed, meanwhile: true);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Download(CliApp app)
    {
        var key = new Argument<string>("key");
        var path = new Argument<string>("dir");
        var command = new Command("download", "Restore KEY into DIR (exit 3 on a miss; DIR untouched on any failure)") { key, path };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var dest = ctx.ResolvePath(ctx.Parse.GetValue(path)!);
            if (File.Exists(dest)) throw S3PodException.Usage($"{dest} exists and is not a directory");
            var clock = Stopwatch.StartNew();
            var opened = await ctx.Store.OpenReadAsync(storeKey, null, ct);
            if (opened is not { } hit)
            {
                ctx.Reporter.Info($"MISS {storeKey}");
                if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "miss", 0, clock.Elapsed.TotalSeconds, Path: dest), S3PodJson.Default.TransferResult);
                return ExitCodes.CacheMiss;
            }
            ArchiveStats stats;
            using (var progress = ctx.Reporter.Progress($"download {storeKey}", hit.Info.Size))
            await using (var content = new HashingReadStream(new ProgressStream(hit.Content, progress.Report), expectedLength: hit.Info.Size, what: storeKey))
            {
                stats = await TarZstd.UnpackDirectoryAsync(ctx.FileSystem, content, dest, ct);
            }
            ctx.Reporter.Info($"HIT {storeKey} -> {dest}: {stats.Files} files, {TransferProgress.Size(stats.UncompressedBytes)} in {clock.Elapsed.TotalSeconds:0.00} s");
            if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "dir-download", hit.Info.Size, clock.Elapsed.TotalSeconds, Path: dest, Files: stats.Files, UncompressedBytes: stats.UncompressedBytes), S3PodJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }
}
