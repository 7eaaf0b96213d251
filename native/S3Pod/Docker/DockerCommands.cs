using System.CommandLine;
using System.Diagnostics;
using S3Pod.Cache;
using S3Pod.Commands;
using S3Pod.Output;
using S3Pod.Storage;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace S3Pod.Docker;

/// <summary>
/// ci-cacher's <c>docker</c> commands: <c>docker save | zstd | S3</c> and the inverse, streamed end to
/// end with no temp file. The docker CLI is a child process (any CLI with save/load/pull: podman too).
/// </summary>
internal static class DockerCommands
{
    public static Command Create(CliApp app)
    {
        var docker = new Command("docker", "Cache docker images as zstd-compressed `docker save` streams");
        var bin = new Option<string>("--docker-bin") { Description = "Container CLI to run (docker, podman, or a path)", DefaultValueFactory = _ => "docker", Recursive = true };
        docker.Options.Add(bin);
        docker.Subcommands.Add(Upload(app, bin));
        docker.Subcommands.Add(Download(app, bin));
        // Image keys are plain objects: `docker exists` is `exists`.
        docker.Subcommands.Add(FileCommands.Exists(app));
        return docker;
    }

    private static Command Upload(CliApp app, Option<string> bin)
    {
        var key = new Argument<string>("key");
        var image = new Argument<string>("image");
        var force = new Option<bool>("--force") { Description = "Overwrite an existing object" };
        var level = CacheCommands.LevelOption();
        var command = new Command("upload", "docker save IMAGE | zstd | upload to KEY") { key, image, force, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var clock = Stopwatch.StartNew();
            if (!ctx.Parse.GetValue(force) && await ctx.Store.HeadAsync(storeKey, ct) is not null)
                return ctx.SkippedUpload(storeKey, "docker-upload", null, clock.Elapsed, meanwhile: false);
            var size = await SaveAsync(ctx, ctx.Parse.GetValue(bin)!, ctx.Parse.GetValue(image)!, storeKey, CacheCommands.ValidLevel(ctx.Parse.GetValue(level)), ctx.Parse.GetValue(force), ct);
            if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "docker-upload", size, clock.Elapsed.TotalSeconds), S3PodJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Download(CliApp app, Option<string> bin)
    {
        var key = new Argument<string>("key");
        var image = new Argument<string?>("image") { Arity = ArgumentArity.ZeroOrOne, Description = "Image to pull on a miss (with --pull)" };
        var pull = new Option<bool>("--pull") { Description = "On a miss, docker pull IMAGE and upload it" };
        var command = new Command("download", "Download KEY | zstd -d | docker load (exit 3 on a miss without --pull)") { key, image, pull };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var docker = ctx.Parse.GetValue(bin)!;
            var img = ctx.Parse.GetValue(image);
            var clock = Stopwatch.StartNew();
            if (ctx.Parse.GetValue(pull) && img is null) throw S3PodException.Usage("--pull needs the IMAGE argument");
            var opened = await ctx.Store.OpenReadAsync(storeKey, null, ct);
            if (opened is not { } hit)
            {
                if (!ctx.Parse.GetValue(pull))
                {
                    ctx.Reporter.Info($"MISS {storeKey}");
                    if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "miss", 0, clock.Elapsed.TotalSeconds), S3PodJson.Default.TransferResult);
                    return ExitCodes.CacheMiss;
                }
                ctx.Reporter.Info($"MISS {storeKey}; pulling {img}");
                await RunToEndAsync(docker, ["pull", img!], ct);
                var size = await SaveAsync(ctx, docker, img!, storeKey, 3, false, ct);
                if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "docker-pull", size, clock.Elapsed.TotalSeconds, Source: "pull"), S3PodJson.Default.TransferResult);
                return ExitCodes.Success;
            }
            using (var progress = ctx.Reporter.Progress($"download {storeKey}", hit.Info.Size))
            await using (var content = new HashingReadStream(new ProgressStream(hit.Content, progress.Report), expectedLength: hit.Info.Size, what: storeKey))
            {
                using var process = Start(docker, ["load"], redirectStdin: true, redirectStdout: true);
                var stderrTask = process.StandardError.ReadToEndAsync(ct);
                var stdoutTask = process.StandardOutput.ReadToEndAsync(ct);
                try
                {
                    await using (var zstd = new DecompressionStream(content, 1 << 20, checkEndOfStream: true, leaveOpen: true))
                    {
                        await zstd.CopyToAsync(process.StandardInput.BaseStream, 1 << 20, ct);
                    }
                    process.StandardInput.Close();
                }
                catch (Exception e) when (e is ZstdException or InvalidDataException or EndOfStreamException)
                {
                    Kill(process);
                    throw S3PodException.Integrity($"{storeKey} is not a zstd-compressed image or is corrupt ({e.Message})");
                }
                catch
                {
                    Kill(process);
                    throw;
                }
                await process.WaitForExitAsync(ct);
                if (process.ExitCode != 0) throw S3PodException.Operational($"{docker} load failed: {FirstLine(await stderrTask)}");
                ctx.Reporter.Info($"HIT {storeKey}: {FirstLine(await stdoutTask)} ({TransferProgress.Size(hit.Info.Size)} in {clock.Elapsed.TotalSeconds:0.00} s)");
            }
            if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "docker-download", hit.Info.Size, clock.Elapsed.TotalSeconds, Source: "cache"), S3PodJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<long> SaveAsync(RunContext ctx, string docker, string image, string storeKey, int level, bool overwrite, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var process = Start(docker, ["save", image], redirectStdin: false, redirectStdout: true);
        var stderrTask = process.StandardError.ReadToEndAsync(ct);
        using var progress = ctx.Reporter.Progress($"upload {storeKey}", null);
        ObjectInfo info;
        try
        {
            info = await StreamPipe.RunAsync(
                async (output, token) =>
                {
                    await using (var zstd = Archive.ZstdEncoder.Create(output, level, 1 << 20))
                    {
                        await process.StandardOutput.BaseStream.CopyToAsync(zstd, 1 << 20, token);
                    }
                    await process.WaitForExitAsync(token);
                    // A failed `docker save` must not leave a short image in the cache: failing the
                    // producer aborts the upload before it completes.
                    if (process.ExitCode != 0) throw S3PodException.Operational($"{docker} save {image} failed: {FirstLine(await stderrTask)}");
                },
                (input, token) => ctx.Store.PutAsync(storeKey, input, new PutOptions
                {
                    Condition = overwrite ? WriteCondition.None : WriteCondition.IfAbsent,
                    Metadata = new Dictionary<string, string> { ["s3pod-format"] = "docker-save+zstd/1", ["s3pod-image"] = image },
                    Progress = progress.Report,
                }, token), ct);
        }
        catch
        {
            Kill(process);
            throw;
        }
        ctx.Reporter.Info($"uploaded image {image} -> {storeKey} ({TransferProgress.Size(info.Size)} in {clock.Elapsed.TotalSeconds:0.00} s)");
        return info.Size;
    }

    private static Process Start(string docker, string[] args, bool redirectStdin, bool redirectStdout)
    {
        var psi = new ProcessStartInfo(docker)
        {
            RedirectStandardInput = redirectStdin,
            RedirectStandardOutput = redirectStdout,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            return Process.Start(psi) ?? throw S3PodException.Operational($"cannot start {docker}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw S3PodException.Operational($"cannot run '{docker}': {e.Message} (is docker installed? use --docker-bin for podman)");
        }
    }

    private static async Task RunToEndAsync(string docker, string[] args, CancellationToken ct)
    {
        using var process = Start(docker, args, redirectStdin: false, redirectStdout: true);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        _ = process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0) throw S3PodException.Operational($"{docker} {string.Join(' ', args)} failed: {FirstLine(await stderr)}");
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch { /* already gone */ }
    }

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no output)";
}
