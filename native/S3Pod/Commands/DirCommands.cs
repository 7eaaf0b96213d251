using System.CommandLine;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Transfers;

namespace S3Pod.Commands;

/// <summary><c>dir upload/download</c> over <see cref="DirService"/>.</summary>
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
        var level = SharedOptions.LevelOption();
        var command = new Command("upload", "Stream DIR as tar+zstd to KEY (skipped when KEY exists, unless --force)") { key, path, force, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new DirUploadRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.ResolvePath(ctx.Parse.GetValue(path)!),
                ctx.Parse.GetValue(force), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)));
            ctx.Output.Write(await new DirService(ctx.Store, ctx.Reporter, ctx.FileSystem).UploadAsync(request, ct), CliJson.Default.TransferResult);
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
            var request = new DirDownloadRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.ResolvePath(ctx.Parse.GetValue(path)!));
            var result = await new DirService(ctx.Store, ctx.Reporter, ctx.FileSystem).DownloadAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.TransferResult);
            return result.IsMiss ? ExitCodes.CacheMiss : ExitCodes.Success;
        });
        return command;
    }
}
