using System.CommandLine;
using S3Pod.Cache;
using S3Pod.Config;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>save / restore / explain / inspect / prune over <see cref="CacheService"/>: the cache
/// semantics the CI wrappers build on.</summary>
internal static class CacheCommands
{
    private static Option<string> KeyOption() => new("--key") { Description = "Cache key", Required = true };
    private static Option<string[]> PathOption() => new("--path") { Description = "File, directory, ~, glob or !exclusion to cache (repeatable)", Required = true, HelpName = "PATH" };
    private static Option<string?> ScopeOption(string what) => new("--scope") { Description = what, HelpName = "SCOPE" };
    private static CacheService Service(CommandContext ctx) => new(ctx.Store, ctx.Reporter, ctx.Clock, ctx.WorkingDirectory, ctx.Home, ctx.FileSystem, $"s3pod {CliApp.Version}")
    {
        ChunkCache = ctx.Settings.ChunkCacheDir is { } dir ? new Chunks.ChunkCache(ctx.ResolvePath(dir), ctx.Settings.ChunkCacheSize) : null,
        StateDirectory = Path.Combine(ctx.ResolvePath(ctx.Settings.CacheDir), "chunks-state"),
    };

    public static Command Save(CliApp app)
    {
        var key = KeyOption();
        var path = PathOption();
        var scope = ScopeOption("Scope to write to (e.g. refs/heads/main)");
        var level = SharedOptions.LevelOption();
        var update = new Option<bool>("--update") { Description = "Replace the entry when the tree differs from it (compare-and-swap; needs a server that enforces If-Match)" };
        var command = new Command("save", "Store paths as a chunked cache entry (skipped when the key exists in the scope, unless --update)") { key, path, scope, level, update };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new SaveRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.Parse.GetValue(path)!, ctx.Parse.GetValue(scope), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)),
                ctx.Parse.GetValue(update));
            ctx.Output.Write(await Service(ctx).SaveAsync(request, ct), CliJson.Default.SaveResult);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The options restore and explain share, bound into a request.</summary>
    private sealed record RestoreOptions(Option<string> Key, Option<string[]> RestoreKeys, Option<string[]> Path, Option<string?> Scope, Option<string[]> Fallback)
    {
        public static RestoreOptions Create() => new(KeyOption(),
            new Option<string[]>("--restore-key") { Description = "Prefix to try when the key misses, in order (repeatable)", HelpName = "PREFIX" },
            PathOption(), ScopeOption("Scope to read first"),
            new Option<string[]>("--fallback-scope") { Description = "Scopes to read next, in order (repeatable)", HelpName = "SCOPE" });

        public IEnumerable<Option> All => [Key, RestoreKeys, Path, Scope, Fallback];

        public RestoreRequest Bind(CommandContext ctx, bool lookupOnly)
        {
            var prefixes = (ctx.Parse.GetValue(RestoreKeys) ?? []).Where(k => k.Length > 0).ToList();
            foreach (var p in prefixes) ObjectKeys.ValidatePrefix(p, "restore key");
            return new RestoreRequest(ctx.StoreKey(ctx.Parse.GetValue(Key)!), prefixes, ctx.Parse.GetValue(Path)!,
                ctx.Parse.GetValue(Scope), ctx.Parse.GetValue(Fallback) ?? [], lookupOnly);
        }
    }

    public static Command Restore(CliApp app)
    {
        var options = RestoreOptions.Create();
        var lookupOnly = new Option<bool>("--lookup-only") { Description = "Report whether a cache matches without downloading it" };
        var failOnMiss = new Option<bool>("--fail-on-miss") { Description = "Exit 3 when nothing matches" };
        var command = new Command("restore", "Restore a cache entry: exact key, then restore-key prefixes (newest first), scope by scope; a miss says why");
        foreach (var o in options.All) command.Options.Add(o);
        command.Options.Add(lookupOnly);
        command.Options.Add(failOnMiss);
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).RestoreAsync(options.Bind(ctx, ctx.Parse.GetValue(lookupOnly)), ct);
            ctx.Output.Write(result, CliJson.Default.RestoreResult);
            return result.MatchedKey is null && ctx.Parse.GetValue(failOnMiss) ? ExitCodes.CacheMiss : ExitCodes.Success;
        });
        return command;
    }

    public static Command Explain(CliApp app)
    {
        var options = RestoreOptions.Create();
        var command = new Command("explain", "Say what a restore with these options would match, and if nothing, why (nearest entries, what differs)");
        foreach (var o in options.All) command.Options.Add(o);
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).ExplainAsync(options.Bind(ctx, lookupOnly: true), ct);
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
                    (m is null ? " (no readable manifest)" : $", {m.Format}, {m.Files} files, {TransferProgress.Size(m.UncompressedSize)} unpacked, sha256 {m.Sha256}, paths: {string.Join(" ", m.Paths)}"));
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
