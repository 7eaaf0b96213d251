using System.CommandLine;
using S3Pod.Docker;
using S3Pod.Output;
using S3Pod.Transfers;

namespace S3Pod.Commands;

/// <summary>The <c>docker</c> commands over <see cref="DockerService"/>.</summary>
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

    private static DockerService Service(CommandContext ctx, Option<string> bin) => new(ctx.Store, ctx.Reporter, new DockerCli(ctx.Parse.GetValue(bin)!));

    private static Command Upload(CliApp app, Option<string> bin)
    {
        var key = new Argument<string>("key");
        var image = new Argument<string>("image");
        var force = new Option<bool>("--force") { Description = "Overwrite an existing object" };
        var level = SharedOptions.LevelOption();
        var command = new Command("upload", "docker save IMAGE | zstd | upload to KEY") { key, image, force, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new DockerUploadRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.Parse.GetValue(image)!, ctx.Parse.GetValue(force), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)));
            ctx.Output.Write(await Service(ctx, bin).UploadAsync(request, ct), CliJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Download(CliApp app, Option<string> bin)
    {
        var key = new Argument<string>("key");
        var image = new Argument<string?>("image") { Arity = ArgumentArity.ZeroOrOne, Description = "Image to pull on a miss (with --pull)" };
        var pull = new Option<bool>("--pull") { Description = "On a miss, docker pull IMAGE and upload it" };
        var level = SharedOptions.LevelOption();
        var command = new Command("download", "Download KEY | zstd -d | docker load (exit 3 on a miss without --pull)") { key, image, pull, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new DockerDownloadRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.Parse.GetValue(image), ctx.Parse.GetValue(pull), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)));
            var result = await Service(ctx, bin).DownloadAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.TransferResult);
            return result.IsMiss ? ExitCodes.CacheMiss : ExitCodes.Success;
        });
        return command;
    }
}
