using System.CommandLine;
using S3Pod.Cache;
using S3Pod.Config;
using S3Pod.Docker;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>save / restore / explain / inspect / prune over <see cref="CacheService"/>: the cache
/// semantics the CI wrappers build on.</summary>
internal static class CacheCommands
{
    private static Option<string> KeyOption() => new("--key") { Description = "Cache key", Required = true };
    private static Option<string[]> PathOption(bool required = true) =>
        new("--path") { Description = "File, directory, ~, glob or !exclusion to cache (repeatable)", Required = required, HelpName = "PATH" };
    private static Option<string?> ImageOption(string what) => new("--docker-image") { Description = what, HelpName = "IMAGE" };
    private static Option<string> DockerBinOption() => new("--docker-bin") { Description = "Container CLI to run with --docker-image (docker, podman, or a path)", DefaultValueFactory = _ => "docker" };

    /// <summary>An entry holds paths or one image: the image reference, or null for paths.</summary>
    private static string? ImageOrPaths(CommandContext ctx, Option<string[]> path, Option<string?> image)
    {
        var img = ctx.Parse.GetValue(image);
        bool paths = (ctx.Parse.GetValue(path) ?? []).Length > 0;
        if (img is not null && paths) throw S3PodException.Usage("--docker-image and --path cannot be used together (an entry holds either an image or paths)");
        if (img is null && !paths) throw S3PodException.Usage("give --path (or --docker-image)");
        return img;
    }

    /// <summary>The container CLI wired into an image entry's ends: Cache knows nothing of Docker.</summary>
    private static ImageEndpoint Endpoint(CommandContext ctx, string image, Option<string> bin)
    {
        var docker = new DockerCli(ctx.Parse.GetValue(bin)!);
        return new ImageEndpoint(image, ct => docker.ImageIdAsync(image, ct),
            (consume, ct) => docker.SaveAsync(image, async (exported, t) =>
            {
                await consume(exported, t);
                return true;
            }, ct),
            docker.LoadAsync);
    }

    private static Option<string?> ScopeOption(string what) => new("--scope") { Description = what, HelpName = "SCOPE" };
    private static CacheService Service(CommandContext ctx) => new(ctx.Store, ctx.Reporter, ctx.Clock, ctx.WorkingDirectory, ctx.Home, ctx.FileSystem, $"s3pod {CliApp.Version}")
    {
        ChunkCache = ctx.Settings.ChunkCacheDir is { } dir ? new Chunks.ChunkCache(ctx.ResolvePath(dir), ctx.Settings.ChunkCacheSize) : null,
        StateDirectory = Path.Combine(ctx.ResolvePath(ctx.Settings.CacheDir), "chunks-state"),
    };

    public static Command Save(CliApp app)
    {
        var key = KeyOption();
        var path = PathOption(required: false);
        var image = ImageOption("Store this image (docker save) instead of paths; its unchanged layers are not uploaded again");
        var bin = DockerBinOption();
        var scope = ScopeOption("Scope to write to (e.g. refs/heads/main)");
        var level = SharedOptions.LevelOption();
        var update = new Option<bool>("--update") { Description = "Replace the entry when the tree (or image ID) differs from it (compare-and-swap; needs a server that enforces If-Match)" };
        var command = new Command("save", "Store paths or an image as a chunked cache entry (skipped when the key exists in the scope, unless --update)") { key, path, image, bin, scope, level, update };
        app.Bind(command, async (ctx, ct) =>
        {
            var img = ImageOrPaths(ctx, path, image);
            var request = new SaveRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.Parse.GetValue(path) ?? [], ctx.Parse.GetValue(scope), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)),
                ctx.Parse.GetValue(update));
            var result = img is null ? await Service(ctx).SaveAsync(request, ct) : await Service(ctx).SaveImageAsync(request, Endpoint(ctx, img, bin), ct);
            ctx.Output.Write(result, CliJson.Default.SaveResult);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The options restore and explain share, bound into a request.</summary>
    private sealed record RestoreOptions(Option<string> Key, Option<string[]> RestoreKeys, Option<string[]> Path, Option<string?> Scope, Option<string[]> Fallback)
    {
        public static RestoreOptions Create(bool pathRequired = true) => new(KeyOption(),
            new Option<string[]>("--restore-key") { Description = "Prefix to try when the key misses, in order (repeatable)", HelpName = "PREFIX" },
            PathOption(pathRequired), ScopeOption("Scope to read first"),
            new Option<string[]>("--fallback-scope") { Description = "Scopes to read next, in order (repeatable)", HelpName = "SCOPE" });

        public IEnumerable<Option> All => [Key, RestoreKeys, Path, Scope, Fallback];

        public RestoreRequest Bind(CommandContext ctx, bool lookupOnly)
        {
            var prefixes = (ctx.Parse.GetValue(RestoreKeys) ?? []).Where(k => k.Length > 0).ToList();
            foreach (var p in prefixes) ObjectKeys.ValidatePrefix(p, "restore key");
            return new RestoreRequest(ctx.StoreKey(ctx.Parse.GetValue(Key)!), prefixes, ctx.Parse.GetValue(Path) ?? [],
                ctx.Parse.GetValue(Scope), ctx.Parse.GetValue(Fallback) ?? [], lookupOnly);
        }
    }

    public static Command Restore(CliApp app)
    {
        var options = RestoreOptions.Create(pathRequired: false);
        var image = ImageOption("Restore an image entry saved with --docker-image IMAGE (docker load)");
        var bin = DockerBinOption();
        var lookupOnly = new Option<bool>("--lookup-only") { Description = "Report whether a cache matches without downloading it" };
        var failOnMiss = new Option<bool>("--fail-on-miss") { Description = "Exit 3 when nothing matches" };
        var command = new Command("restore", "Restore a cache entry: exact key, then restore-key prefixes (newest first), scope by scope; a miss says why");
        foreach (var o in options.All) command.Options.Add(o);
        command.Options.Add(image);
        command.Options.Add(bin);
        command.Options.Add(lookupOnly);
        command.Options.Add(failOnMiss);
        app.Bind(command, async (ctx, ct) =>
        {
            var img = ImageOrPaths(ctx, options.Path, image);
            var request = options.Bind(ctx, ctx.Parse.GetValue(lookupOnly));
            var result = img is null ? await Service(ctx).RestoreAsync(request, ct) : await Service(ctx).RestoreImageAsync(request, Endpoint(ctx, img, bin), ct);
            ctx.Output.Write(result, CliJson.Default.RestoreResult);
            return result.MatchedKey is null && ctx.Parse.GetValue(failOnMiss) ? ExitCodes.CacheMiss : ExitCodes.Success;
        });
        return command;
    }

    public static Command Explain(CliApp app)
    {
        var options = RestoreOptions.Create(pathRequired: false);
        var image = ImageOption("Explain a restore of an image entry (saved with --docker-image IMAGE)");
        var command = new Command("explain", "Say what a restore with these options would match, and if nothing, why (nearest entries, what differs)");
        foreach (var o in options.All) command.Options.Add(o);
        command.Options.Add(image);
        app.Bind(command, async (ctx, ct) =>
        {
            var img = ImageOrPaths(ctx, options.Path, image);
            var request = options.Bind(ctx, lookupOnly: true);
            var result = img is null ? await Service(ctx).ExplainAsync(request, ct) : await Service(ctx).ExplainImageAsync(request, img, ct);
            ctx.Output.Write(result, CliJson.Default.ExplainResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Inspect(CliApp app)
    {
        var key = new Argument<string>("key");
        var scope = ScopeOption("Only this scope");
        var command = new Command("inspect", "Show what a cache entry holds: format, paths, files, sizes, digest, last use") { key, scope };
        app.Bind(command, async (ctx, ct) =>
        {
            var k = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var result = await Service(ctx).InspectAsync(k, ctx.Parse.GetValue(scope), ct);
            if (result.Entries.Count == 0)
            {
                // Not a save/restore entry: maybe a plain object (upload, dir upload, docker upload).
                var plain = await ctx.Store.HeadAsync(k, ct) ?? throw S3PodException.NotFound($"no cache entry or object named {k}");
                ctx.Reporter.Info($"{k}: {plain.Format ?? "raw"}, {TransferProgress.Size(plain.Size)}, last modified {plain.LastModified:u}{(plain.Sha256 is { } s ? $", sha256 {s}" : "")}");
                result = new InspectResult(k, [new InspectEntry(k, "", k, "", plain.Size, plain.LastModified, plain.LastModified, null)]);
            }
            foreach (var e in result.Entries.Where(e => e.Scope.Length > 0))
            {
                var m = e.Manifest;
                ctx.Reporter.Info($"{e.Scope}/{e.Key} [{e.Version}]: {TransferProgress.Size(e.Size)}, last used {e.LastUsed:u}" +
                    (m is null ? " (no readable manifest)" : m.Image is { } img ? $", {m.Format}, image {img} ({m.ImageId}), {TransferProgress.Size(m.UncompressedSize)} as docker save, sha256 {m.Sha256}"
                        : $", {m.Format}, {m.Files} files, {TransferProgress.Size(m.UncompressedSize)} unpacked, sha256 {m.Sha256}, paths: {string.Join(" ", m.Paths)}"));
            }
            ctx.Output.Write(result, CliJson.Default.InspectResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Prune(CliApp app)
    {
        var keyPrefix = new Option<string>("--key-prefix") { Description = "Only entries whose key starts with this (the store --prefix selects the namespace)", DefaultValueFactory = _ => "" };
        var olderThan = new Option<string?>("--older-than") { Description = "Evict entries not used for this long (e.g. 7d, 12h, 30m)", HelpName = "DURATION" };
        var maxTotal = new Option<string?>("--max-total") { Description = "Evict least recently used entries until the total is at most this (e.g. 10G, 500M)", HelpName = "SIZE" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would be deleted" };
        var grace = new Option<string?>("--grace") { Description = "Then delete chunks no entry references once they are this old (default 1h; 0s is safe: saves in flight are waited for)", HelpName = "DURATION" };
        var command = new Command("prune", "Evict cache entries by last use, oldest first, then collect unreferenced chunks") { keyPrefix, olderThan, maxTotal, dryRun, grace };
        app.Bind(command, async (ctx, ct) =>
        {
            var age = ctx.Parse.GetValue(olderThan) is { } a ? Values.ParseDuration(a, "--older-than") : (TimeSpan?)null;
            var budget = ctx.Parse.GetValue(maxTotal) is { } m ? Values.ParseSize(m, "--max-total") : (long?)null;
            var graceText = ctx.Parse.GetValue(grace);
            if (age is null && budget is null && graceText is null) throw S3PodException.Usage("give --older-than and/or --max-total (or --grace alone to only collect chunks)");
            var collectAfter = graceText is null ? TimeSpan.FromHours(1) : Values.ParseDuration(graceText, "--grace");
            var result = await Service(ctx).PruneAsync(ctx.Parse.GetValue(keyPrefix) ?? "", age, budget, ctx.Parse.GetValue(dryRun), ct, collectAfter);
            ctx.Reporter.Info($"{(result.DryRun ? "would free" : "freed")} {TransferProgress.Size(result.FreedBytes)} in {result.Deleted.Count} entries; {result.Kept} entries ({TransferProgress.Size(result.KeptBytes)}) kept" +
                (result.Orphans > 0 ? $"; {result.Orphans} leftover archive(s) of lost or crashed saves {(result.DryRun ? "would be " : "")}removed" : ""));
            ctx.Output.Write(result, CliJson.Default.PruneResult);
            return ExitCodes.Success;
        });
        return command;
    }
}
