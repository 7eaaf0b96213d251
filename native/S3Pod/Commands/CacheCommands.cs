using System.CommandLine;
using System.Globalization;
using S3Pod.Cache;
using S3Pod.Config;
using S3Pod.Output;

namespace S3Pod.Commands;

/// <summary>save / restore / inspect / prune: the cache semantics the CI wrappers build on.</summary>
internal static class CacheCommands
{
    private static Option<string> KeyOption() => new("--key") { Description = "Cache key", Required = true };
    private static Option<string[]> PathOption() => new("--path") { Description = "File, directory, ~, glob or !exclusion to cache (repeatable)", Required = true, HelpName = "PATH" };
    private static Option<string?> ScopeOption(string what) => new("--scope") { Description = what, HelpName = "SCOPE" };
    internal static Option<int> LevelOption() => new("--level") { Description = "zstd level 1-19", DefaultValueFactory = _ => 3, HelpName = "N" };

    internal static int ValidLevel(int level) => level is >= 1 and <= 19 ? level : throw S3PodException.Usage($"--level must be between 1 and 19, not {level}");

    private static CacheService Service(RunContext ctx) =>
        new(ctx.Store, ctx.Reporter, ctx.WorkingDirectory, Settings.Home(ctx.Env), ctx.FileSystem);

    public static Command Save(CliApp app)
    {
        var key = KeyOption();
        var path = PathOption();
        var scope = ScopeOption("Scope to write to (e.g. refs/heads/main)");
        var level = LevelOption();
        var command = new Command("save", "Archive paths as a cache entry (skipped when the key exists in the scope)") { key, path, scope, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new SaveRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), ctx.Parse.GetValue(path)!, ctx.Parse.GetValue(scope), ValidLevel(ctx.Parse.GetValue(level)));
            var result = await Service(ctx).SaveAsync(request, ct);
            if (ctx.Json) ctx.WriteJson(result, S3PodJson.Default.SaveResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Restore(CliApp app)
    {
        var key = KeyOption();
        var restoreKeys = new Option<string[]>("--restore-key") { Description = "Prefix to try when the key misses, in order (repeatable)", HelpName = "PREFIX" };
        var path = PathOption();
        var scope = ScopeOption("Scope to read first");
        var fallback = new Option<string[]>("--fallback-scope") { Description = "Scopes to read next, in order (repeatable)", HelpName = "SCOPE" };
        var lookupOnly = new Option<bool>("--lookup-only") { Description = "Report whether a cache matches without downloading it" };
        var failOnMiss = new Option<bool>("--fail-on-miss") { Description = "Exit 3 when nothing matches" };
        var command = new Command("restore", "Restore a cache entry: exact key, then restore-key prefixes (newest first), scope by scope")
            { key, restoreKeys, path, scope, fallback, lookupOnly, failOnMiss };
        app.Bind(command, async (ctx, ct) =>
        {
            var prefixes = (ctx.Parse.GetValue(restoreKeys) ?? []).Where(k => k.Length > 0).ToList();
            foreach (var p in prefixes) RunContext.ValidateKey(p);
            var request = new RestoreRequest(ctx.StoreKey(ctx.Parse.GetValue(key)!), prefixes, ctx.Parse.GetValue(path)!,
                ctx.Parse.GetValue(scope), ctx.Parse.GetValue(fallback) ?? [], ctx.Parse.GetValue(lookupOnly));
            var result = await Service(ctx).RestoreAsync(request, ct);
            if (ctx.Json) ctx.WriteJson(result, S3PodJson.Default.RestoreResult);
            return result.MatchedKey is null && ctx.Parse.GetValue(failOnMiss) ? ExitCodes.CacheMiss : ExitCodes.Success;
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
                var plain = await ctx.Store.HeadAsync(k, ct);
                if (plain is null) throw S3PodException.NotFound($"no cache entry or object named {k}");
                var format = plain.Metadata.TryGetValue("s3pod-format", out var f) ? f : "raw";
                ctx.Reporter.Info($"{k}: {format}, {TransferProgress.Size(plain.Size)}, last modified {plain.LastModified:u}{(plain.Sha256 is { } s ? $", sha256 {s}" : "")}");
                if (ctx.Json) ctx.WriteJson(new InspectResult(k, [new InspectEntry(k, "", k, "", plain.Size, plain.LastModified, plain.LastModified, null)]), S3PodJson.Default.InspectResult);
                return ExitCodes.Success;
            }
            foreach (var e in result.Entries)
            {
                var m = e.Manifest;
                ctx.Reporter.Info($"{e.Scope}/{e.Key} [{e.Version}]: {TransferProgress.Size(e.Size)}, last used {e.LastUsed:u}" +
                    (m is null ? " (no manifest)" : $", {m.Format}, {m.Files} files, {TransferProgress.Size(m.UncompressedSize)} unpacked, sha256 {m.Sha256}, paths: {string.Join(" ", m.Paths)}"));
            }
            if (ctx.Json) ctx.WriteJson(result, S3PodJson.Default.InspectResult);
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
        var command = new Command("prune", "Evict cache entries by last use, oldest first") { keyPrefix, olderThan, maxTotal, dryRun };
        app.Bind(command, async (ctx, ct) =>
        {
            var age = ctx.Parse.GetValue(olderThan) is { } a ? ParseDuration(a) : (TimeSpan?)null;
            var budget = ctx.Parse.GetValue(maxTotal) is { } m ? ParseSize(m) : (long?)null;
            if (age is null && budget is null) throw S3PodException.Usage("give --older-than and/or --max-total");
            var result = await Service(ctx).PruneAsync(ctx.Parse.GetValue(keyPrefix) ?? "", age, budget, ctx.Parse.GetValue(dryRun), DateTimeOffset.UtcNow, ct);
            ctx.Reporter.Info($"{(result.DryRun ? "would free" : "freed")} {TransferProgress.Size(result.FreedBytes)} in {result.Deleted.Count} entries; {result.Kept} entries ({TransferProgress.Size(result.KeptBytes)}) kept");
            if (ctx.Json) ctx.WriteJson(result, S3PodJson.Default.PruneResult);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static TimeSpan ParseDuration(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t.Length >= 2 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            switch (t[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
                case 'w': return TimeSpan.FromDays(7 * n);
            }
        }
        throw S3PodException.Usage($"duration '{text}' is not valid (use e.g. 30m, 12h, 7d)");
    }

    internal static long ParseSize(string text)
    {
        var t = text.Trim().ToUpperInvariant().TrimEnd('B').TrimEnd('I');
        long unit = 1;
        if (t.Length > 0 && "KMGT".Contains(t[^1]))
        {
            unit = 1L << (10 * ("KMGT".IndexOf(t[^1]) + 1));
            t = t[..^1];
        }
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0) return (long)(n * unit);
        throw S3PodException.Usage($"size '{text}' is not valid (use e.g. 500M, 10G)");
    }
}
