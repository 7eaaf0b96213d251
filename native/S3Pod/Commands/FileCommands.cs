using System.CommandLine;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Transfers;

namespace S3Pod.Commands;

/// <summary>The single-file commands: download (fetch-or-download), upload, exists, list,
/// delete. Each binds its options into a request and hands it to <see cref="FileService"/>.</summary>
internal static class FileCommands
{
    private static FileService Service(CommandContext ctx) => new(ctx.Store, ctx.Http, ctx.Reporter, ctx.FileSystem, ctx.Settings.Network);

    public static Command Download(CliApp app)
    {
        var key = new Argument<string>("key");
        var dest = new Argument<string>("dest") { Description = "Where to write the file" };
        var url = new Option<string?>("--url") { Description = "On a miss, download from this URL and store it for next time" };
        var sha = new Option<string?>("--sha256") { Description = "Expected sha256 of the file (verified on hit and on URL download)", HelpName = "HEX" };
        var command = new Command("download", "Fetch a file from the cache; on a miss, from --url (then cache it)") { key, dest, url, sha };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new DownloadRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.ResolvePath(ctx.Parse.GetValue(dest)!),
                ValidUrl(ctx.Parse.GetValue(url)), Sha256Option(ctx.Parse.GetValue(sha)));
            var result = await Service(ctx).DownloadAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.TransferResult);
            return result.IsMiss ? ExitCodes.CacheMiss : ExitCodes.Success;
        });
        return command;
    }

    public static Command Upload(CliApp app)
    {
        var key = new Argument<string>("key");
        var path = new Argument<string>("path") { Description = "File to upload" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing object" };
        var command = new Command("upload", "Store a file under a key (skipped when the key exists, unless --force)") { key, path, force };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new UploadRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.ResolvePath(ctx.Parse.GetValue(path)!), ctx.Parse.GetValue(force));
            ctx.Output.Write(await Service(ctx).UploadAsync(request, ct), CliJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Exists(CliApp app)
    {
        var key = new Argument<string>("key");
        var command = new Command("exists", "Exit 0 when the key exists, 1 when it does not") { key };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).ExistsAsync(ctx.StoreKey(ctx.Parse.GetValue(key)!), ct);
            ctx.Output.Write(result, CliJson.Default.ExistsResult);
            return result.Exists ? ExitCodes.Success : ExitCodes.NotFound;
        });
        return command;
    }

    public static Command List(CliApp app)
    {
        var prefix = new Argument<string?>("prefix") { Description = "Only keys starting with this", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List keys (one per line; --json adds size and last-modified)") { prefix };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).ListAsync(Storage.ObjectKeys.ValidatePrefix(ctx.Parse.GetValue(prefix) ?? ""), ct);
            ctx.Output.Write(result, CliJson.Default.ListResult, result.Objects.Count == 0 ? null : string.Join('\n', result.Objects.Select(o => o.Key)));
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Delete(CliApp app)
    {
        var key = new Argument<string>("key");
        var command = new Command("delete", "Delete a key (exit 1 when it was not there)") { key };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).DeleteAsync(ctx.StoreKey(ctx.Parse.GetValue(key)!), ct);
            ctx.Output.Write(result, CliJson.Default.DeleteResult);
            return result.Deleted ? ExitCodes.Success : ExitCodes.NotFound;
        });
        return command;
    }

    private static string? ValidUrl(string? url)
    {
        if (url is null) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            throw S3PodException.Usage($"--url '{Redaction.Apply(url)}' is not an http:// or https:// URL");
        return url;
    }

    internal static string? Sha256Option(string? sha, string option = "--sha256")
    {
        if (sha is null) return null;
        var s = sha.Trim().ToLowerInvariant();
        if (s.StartsWith("sha256:", StringComparison.Ordinal)) s = s[7..];
        if (s.Length != 64 || !s.All(Uri.IsHexDigit)) throw S3PodException.Usage($"{option} '{sha}' is not 64 hex characters");
        return s;
    }
}
