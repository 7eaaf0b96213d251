using System.CommandLine;
using System.Globalization;
using S3Pod.Artifacts;
using S3Pod.Assets;
using S3Pod.Config;
using S3Pod.Output;

namespace S3Pod.Commands;

/// <summary>
/// <c>s3pod asset …</c>: pinned assets (manifest, specs, the local assets directory) and the object
/// cache of any s3:// URI. Each handler binds its options and calls <see cref="AssetService"/>,
/// <see cref="ObjectCache"/> or <see cref="AssetBundles"/>.
/// </summary>
internal static class AssetCommands
{
    public static Command Create(CliApp app)
    {
        var asset = new Command("asset", "Pinned assets (a manifest, name:version specs, a local assets directory) and a revalidating cache of any s3:// object");
        foreach (var c in new[] { Fetch(app), PathCommand(app), Cat(app), Get(app), List(app), Check(app), Add(app), Update(app), Versions(app), ListRemote(app), Sync(app),
                     Prefill(app), Pack(app), Unpack(app), Cache(app) })
            asset.Subcommands.Add(c);
        return asset;
    }

    /// <summary>The collaborators of one asset command, built from the invocation's settings.</summary>
    private sealed class Parts : IAsyncDisposable
    {
        private readonly BucketStores _stores;

        /// <param name="assetsDir">An assets directory given to this command (sync's DIR) instead of the setting.</param>
        public Parts(CommandContext ctx, string? assetsDir = null)
        {
            var settings = ctx.AssetSettings;
            _stores = new BucketStores(ctx.Stores.OpenBucket);
            Objects = new ObjectCache(ctx.ResolvePath(ctx.Settings.CacheDir), settings, _stores, ctx.Clock, ctx.Reporter);
            Assets = new AssetsDirectory(assetsDir ?? ctx.ResolvePath(settings.AssetsDir));
            Manifest = new ManifestFile(settings.Manifest, ctx.WorkingDirectory);
            var source = ArtifactSource(ctx);
            Resolver = new AssetResolver(Assets, Manifest, source, Objects, ctx.Env, ctx.WorkingDirectory, ctx.Reporter, ctx.Clock);
            Service = new AssetService(Resolver, Objects, Manifest, ctx.Env, ctx.Reporter);
            Ledger = new AssetLedgerService(Resolver, Service, Manifest, Assets, source, ctx.Reporter);
        }

        public AssetLedgerService Ledger { get; }

        public ObjectCache Objects { get; }
        public AssetsDirectory Assets { get; }
        public ManifestFile Manifest { get; }
        public AssetResolver Resolver { get; }
        public AssetService Service { get; }

        public ValueTask DisposeAsync() => _stores.DisposeAsync();
    }

    /// <summary>The artifact ledger that resolves and supplies versions the assets directory lacks:
    /// the configured bucket, as for `s3pod artifact`. Without a bucket there is none (the local
    /// store is a stand-in for trying s3pod out, not a place assets come from) and specs resolve from
    /// the assets directory alone. Nothing is opened until a request is needed.</summary>
    private static ArtifactAssetSource? ArtifactSource(CommandContext ctx)
    {
        var settings = ctx.Settings;
        if (settings.Bucket is null) return null;
        var location = $"s3://{settings.Bucket}/{settings.Prefix}".TrimEnd('/');
        return new ArtifactAssetSource(() => FeatureServices.Artifacts(ctx), location);
    }

    /// <summary>--ttl, --strict, --revalidate: how cached copies are used.</summary>
    private sealed record FetchFlags(Option<string?> Ttl, Option<bool> Strict, Option<bool> Revalidate)
    {
        public static FetchFlags Create() => new(
            new Option<string?>("--ttl") { Description = $"Use a cached s3:// copy this long before one HEAD checks it (0s: always). Env {SettingsTable.AssetTtl.EnvVar}, default {SettingsTable.AssetTtl.Default}", HelpName = "DURATION" },
            new Option<bool>("--strict") { Description = "Fail instead of serving an old copy when the store cannot be reached" },
            new Option<bool>("--revalidate") { Description = "Check cached s3:// copies now, whatever their age" });

        public IEnumerable<Option> All => [Ttl, Strict, Revalidate];

        public FetchOptions Bind(CommandContext ctx) => new(
            ctx.Parse.GetValue(Ttl) is { } ttl ? AssetSettings.ParseTtl(ttl, "--ttl") : ctx.AssetSettings.Ttl,
            ctx.Parse.GetValue(Strict),
            ctx.Parse.GetValue(Revalidate));
    }

    private static Command With(Command command, IEnumerable<Option> options)
    {
        foreach (var o in options) command.Options.Add(o);
        return command;
    }

    private static Command Fetch(CliApp app)
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key" };
        var flags = FetchFlags.Create();
        var command = With(new Command("fetch", "Keep a local copy of an s3:// object (revalidated after --ttl) and print its path") { uri }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var text = ctx.Parse.GetValue(uri)!;
            if (!S3Uri.Looks(text)) throw S3PodException.Usage($"'{text}' is not an s3:// URI (`s3pod asset path` takes specs)");
            var result = await parts.Service.PathAsync(text, flags.Bind(ctx), ct);
            ctx.Output.Write(result, CliJson.Default.AssetResult, result.Path);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> SpecArgument() => new("spec") { Description = "name[:version][[sub/path]], a manifest path (/foo/bar.csv) or s3://bucket/key" };

    private static Command PathCommand(CliApp app)
    {
        var spec = SpecArgument();
        var flags = FetchFlags.Create();
        var command = With(new Command("path", "Print a local path for an asset or s3:// object (no network when it is present and pinned)") { spec }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var result = await parts.Service.PathAsync(ctx.Parse.GetValue(spec)!, flags.Bind(ctx), ct);
            ctx.Output.Write(result, CliJson.Default.AssetResult, result.Path);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Cat(CliApp app)
    {
        var spec = SpecArgument();
        var flags = FetchFlags.Create();
        var command = With(new Command("cat", "Write an asset's or s3:// object's content to stdout") { spec }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            if (ctx.Output.Json) throw S3PodException.Usage("asset cat writes the content to stdout; use `s3pod asset path --json` for the JSON result");
            await using var parts = new Parts(ctx);
            var result = await parts.Service.PathAsync(ctx.Parse.GetValue(spec)!, flags.Bind(ctx), ct);
            if (result.Kind != "file") throw S3PodException.Usage($"{result.Spec} is a directory ({result.Path}); cat writes files");
            await using var file = new FileStream(result.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var stdout = Console.OpenStandardOutput();
            await file.CopyToAsync(stdout, ct);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get(CliApp app)
    {
        var spec = SpecArgument();
        var dest = new Argument<string>("dest") { Description = "Where to copy it" };
        var flags = FetchFlags.Create();
        var command = With(new Command("get", "Copy an asset or s3:// object to DEST (written beside it and renamed into place)") { spec, dest }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var result = await parts.Service.GetAsync(ctx.Parse.GetValue(spec)!, ctx.ResolvePath(ctx.Parse.GetValue(dest)!), flags.Bind(ctx), ct);
            ctx.Output.Write(result, CliJson.Default.AssetResult, result.Path);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var command = new Command("ls", "List the manifest's entries and whether each is present on this machine");
        app.Bind(command, async (ctx, _) =>
        {
            await using var parts = new Parts(ctx);
            var result = parts.Service.List();
            int width = result.Assets.Count == 0 ? 0 : result.Assets.Max(a => a.Key.Length);
            ctx.Output.Write(result, CliJson.Default.AssetListResult,
                result.Assets.Count == 0 ? null : string.Join('\n', result.Assets.Select(a => $"{a.Key.PadRight(width)}  {a.Value}  {(a.Present ? "present" : "absent")}")));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Check(CliApp app)
    {
        var command = new Command("check", "CI guard: exit 1 when the manifest overrides an asset (a local file or an s3:// object) or pins a version the store does not have");
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var result = await parts.Ledger.CheckAsync(ct);
            ctx.Output.Write(result, CliJson.Default.AssetCheckResult,
                result.Ok ? $"{result.Manifest}: ok{(result.Store is null ? " (overrides only: no artifact store configured)" : $" (pins checked against {result.Store})")}" : null);
            return result.Ok ? ExitCodes.Success : ExitCodes.NotFound;
        });
        return command;
    }

    /// <summary>add and update: PATH FILE and the version flags.</summary>
    private static Command Publish(CliApp app, bool add)
    {
        var path = new Argument<string>("path") { Description = "The manifest path (/foo/bar.csv) or asset name (some/asset)" };
        var file = new Argument<string>("file") { Description = "A file, or a directory (stored as one tar+zstd archive)" };
        var version = new Option<string?>("--version") { Description = "This exact version (above the store's latest; 4 → 4.0.0, 3.7 → 3.7.0)", HelpName = "V" };
        var minVersion = new Option<string?>("--min-version") { Description = "At least this version (latest 3.4.5 with 4 gives 4.0.0)", HelpName = "V" };
        var major = new Option<bool>("--major") { Description = "Bump the major part of the store's latest version" };
        var minor = new Option<bool>("--minor") { Description = "Bump the minor part" };
        var patch = new Option<bool>("--patch") { Description = "Bump the patch part" };
        var level = SharedOptions.LevelOption();
        var command = add
            ? new Command("add", "Push FILE as the first version of a new asset (1.0.0 unless the store has it already) and pin it in the manifest") { path, file, version, minVersion, level }
            : new Command("update", "Push FILE as a new version (strictly above the store's latest) and pin it in the manifest") { path, file, major, minor, patch, version, minVersion, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var bumps = new (Option<bool> Flag, SemverBump Bump)[] { (major, SemverBump.Major), (minor, SemverBump.Minor), (patch, SemverBump.Patch) }
                .Where(b => !add && ctx.Parse.GetValue(b.Flag)).Select(b => b.Bump).ToList();
            if (bumps.Count > 1) throw S3PodException.Usage("--major, --minor and --patch exclude each other");
            var request = new AssetPublishRequest(ctx.Parse.GetValue(path)!, ctx.ResolvePath(ctx.Parse.GetValue(file)!), add, bumps.Count == 1 ? bumps[0] : null,
                ctx.Parse.GetValue(version), ctx.Parse.GetValue(minVersion), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)));
            await using var parts = new Parts(ctx);
            var result = await parts.Ledger.PublishAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.AssetPublishResult, result.Version);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Add(CliApp app) => Publish(app, add: true);

    private static Command Update(CliApp app) => Publish(app, add: false);

    private static Command Versions(CliApp app)
    {
        var path = new Argument<string>("path") { Description = "The manifest path (/foo/bar.csv) or asset name" };
        var command = new Command("versions", "List an asset's versions in the store, newest first (pinned: the manifest's; present: in the assets directory)") { path };
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var result = await parts.Ledger.VersionsAsync(ctx.Parse.GetValue(path)!, ct);
            var lines = result.Versions.Select(v => string.Join("  ", new[]
            {
                v.Version, v.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                v.Pinned ? "pinned" : null, v.Present ? "present" : null, v.Aliases.Count > 0 ? string.Join(',', v.Aliases) : null,
            }.OfType<string>())).ToList();
            ctx.Output.Write(result, CliJson.Default.AssetVersionsResult, lines.Count == 0 ? null : string.Join('\n', lines));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListRemote(CliApp app)
    {
        var prefix = new Argument<string?>("prefix") { Description = "Only assets whose names start with this", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("ls-remote", "List every asset in the artifact store with its latest version") { prefix };
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var result = await parts.Ledger.ListRemoteAsync((ctx.Parse.GetValue(prefix) ?? "").TrimStart('/'), ct);
            int width = result.Assets.Count == 0 ? 0 : result.Assets.Max(a => a.Name.Length);
            ctx.Output.Write(result, CliJson.Default.AssetRemoteListResult, result.Assets.Count == 0 ? null
                : string.Join('\n', result.Assets.Select(a => $"{a.Name.PadRight(width)}  {a.Latest ?? "-"}{(a.Pinned is { } p ? $"  (pinned {p})" : "")}")));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Sync(CliApp app)
    {
        var dir = new Argument<string?>("dir") { Description = "The assets directory to fill (default: --assets-dir / S3POD_ASSETS_DIR)", Arity = ArgumentArity.ZeroOrOne };
        var jobs = JobsOption();
        var prune = new Option<bool>("--prune") { Description = "Then remove the other versions of the manifest's assets from the assets directory (only when every entry synced; for a directory that belongs to this manifest)" };
        var flags = FetchFlags.Create();
        var command = With(new Command("sync", "Materialise every manifest entry in the assets directory (in parallel); report every failure at the end") { dir, jobs, prune }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            var target = ctx.Parse.GetValue(dir) is { } d ? ctx.ResolvePath(d) : null;
            int parallel = ValidJobs(ctx.Parse.GetValue(jobs));
            await using var parts = new Parts(ctx, target);
            var result = await parts.Ledger.SyncAsync(parallel, flags.Bind(ctx), ct, ctx.Parse.GetValue(prune));
            var lines = result.Entries.Select(e => $"{e.Path}  {e.Version ?? "override"}  {(e.Downloaded ? "downloaded" : "present")}  {e.Local}").ToList();
            lines.Add($"sync: {result.Downloaded} downloaded, {result.Present} present, {result.Failed.Count} failed ({result.Entries.Count + result.Failed.Count} entries)");
            ctx.Output.Write(result, CliJson.Default.AssetSyncResult, string.Join('\n', lines));
            if (result.Failed.Count == 0) return ExitCodes.Success;
            // The store out of reach is its own outcome (a retry later may do); any other failure is 1.
            return result.Failed.Any(f => f.Kind == FailureKind.Offline) ? ExitCodes.Offline : ExitCodes.NotFound;
        });
        return command;
    }

    /// <summary>One --jobs for sync, prefill and pack. 8 is what sync always used, and sync is what the
    /// wrappers run; a bigger fan-out is one flag away.</summary>
    private static Option<int> JobsOption() => new("--jobs", "-j") { Description = "Entries fetched at once", DefaultValueFactory = _ => 8, HelpName = "N" };

    private static int ValidJobs(int jobs) => jobs is >= 1 and <= 256 ? jobs : throw S3PodException.Usage($"--jobs must be between 1 and 256, not {jobs}");

    private static Command Prefill(CliApp app)
    {
        var list = new Argument<string>("list") { Description = "File of s3:// URIs and specs, one per line ('#' comments; - for stdin)" };
        var jobs = JobsOption();
        var flags = FetchFlags.Create();
        var command = With(new Command("prefill", "Fetch every entry of a list in parallel; report every failure at the end (non-zero exit if any)") { list, jobs }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            var entries = AssetService.ReadList(ListPath(ctx, ctx.Parse.GetValue(list)!));
            await using var parts = new Parts(ctx);
            var (result, _) = await parts.Service.PrefillAsync(entries, ValidJobs(ctx.Parse.GetValue(jobs)), flags.Bind(ctx), ct);
            result = result with { Failed = result.Failed.Select(f => f with { ExitCode = ExitCodes.For(f.Kind) }).ToList() };
            ctx.Output.Write(result, CliJson.Default.AssetPrefillResult);
            return FailureExit(result.Failed);
        });
        return command;
    }

    /// <summary>Several failed entries: their exit code when they agree (all offline: 6), else 2.</summary>
    private static int FailureExit(IReadOnlyList<AssetFailure> failed)
    {
        if (failed.Count == 0) return ExitCodes.Success;
        var codes = failed.Select(f => ExitCodes.For(f.Kind)).Distinct().ToList();
        return codes.Count == 1 ? codes[0] : ExitCodes.OperationalError;
    }

    private static string ListPath(CommandContext ctx, string path) => path == "-" ? path : ctx.ResolvePath(path);

    private static Command Pack(CliApp app)
    {
        var list = new Argument<string>("list") { Description = "File of s3:// URIs and specs, one per line" };
        var output = new Argument<string>("out") { Description = "Bundle to write, e.g. assets.tar.zst (several: out-1.tar.zst, out-2.tar.zst, ...)" };
        var maxSize = new Option<string?>("--max-size") { Description = "Split into bundles of at most this size, e.g. 2G", HelpName = "SIZE" };
        var jobs = JobsOption();
        var level = SharedOptions.LevelOption();
        var flags = FetchFlags.Create();
        var command = With(new Command("pack", "Write tar.zst bundles of the listed objects and assets (fetched first when missing), for air-gapped runners") { list, output, maxSize, jobs, level }, flags.All);
        app.Bind(command, async (ctx, ct) =>
        {
            var entries = AssetService.ReadList(ListPath(ctx, ctx.Parse.GetValue(list)!));
            long? max = ctx.Parse.GetValue(maxSize) is { } text ? Values.ParseSize(text, "--max-size") : null;
            if (max is <= 0) throw S3PodException.Usage("--max-size must be above 0");
            await using var parts = new Parts(ctx);
            var bundles = new AssetBundles(parts.Objects, parts.Assets, parts.Service, ctx.FileSystem, ctx.Reporter, ctx.Clock);
            var result = await bundles.PackAsync(entries, ctx.ResolvePath(ctx.Parse.GetValue(output)!), max, ValidJobs(ctx.Parse.GetValue(jobs)),
                SharedOptions.ValidLevel(ctx.Parse.GetValue(level)), flags.Bind(ctx), ct);
            ctx.Output.Write(result, CliJson.Default.AssetPackResult, string.Join('\n', result.Bundles.Select(b => b.Path)));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Unpack(CliApp app)
    {
        var files = new Argument<string[]>("bundle") { Description = "Bundles written by `asset pack`", Arity = ArgumentArity.OneOrMore };
        var command = new Command("unpack", "Load bundles into the object cache and the assets directory") { files };
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var bundles = new AssetBundles(parts.Objects, parts.Assets, parts.Service, ctx.FileSystem, ctx.Reporter, ctx.Clock);
            var result = await bundles.UnpackAsync(ctx.Parse.GetValue(files)!.Select(ctx.ResolvePath).ToList(), ct);
            ctx.Output.Write(result, CliJson.Default.AssetUnpackResult);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Cache(CliApp app)
    {
        var cache = new Command("cache", "The object cache of s3:// URIs");
        cache.Subcommands.Add(CacheList(app));
        cache.Subcommands.Add(CacheRemove(app));
        cache.Subcommands.Add(CacheInvalidate(app));
        return cache;
    }

    private static Command CacheList(CliApp app)
    {
        var longFormat = new Option<bool>("--long", "-l") { Description = "Size, age and whether each copy is due for revalidation" };
        var command = new Command("ls", "List cached objects (and the URIs that could not be fetched offline)") { longFormat };
        app.Bind(command, async (ctx, _) =>
        {
            await using var parts = new Parts(ctx);
            var objects = parts.Objects.List();
            var missing = parts.Objects.Missing();
            var result = new AssetCacheListResult(parts.Objects.Root,
                objects.Select(o => new CachedObjectEntry(o.Record.Uri, o.Path, o.Record.Size, o.Record.ETag, o.Record.Sha256, o.Record.Downloaded, o.Record.Checked,
                    Math.Round(o.Age.TotalSeconds, 3), o.Outdated, o.Immutable)).ToList(),
                missing);
            var lines = objects.Select(o => ctx.Parse.GetValue(longFormat)
                ? string.Create(CultureInfo.InvariantCulture, $"{o.Record.Uri}  {TransferProgress.Size(o.Record.Size)}  {AssetText.Age(o.Age)}  {(o.Immutable ? "immutable" : o.Outdated ? "outdated" : "fresh")}")
                : o.Record.Uri).ToList();
            if (ctx.Parse.GetValue(longFormat)) lines.AddRange(missing.Select(m => $"{m}  missing"));
            ctx.Output.Write(result, CliJson.Default.AssetCacheListResult, lines.Count == 0 ? null : string.Join('\n', lines));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CacheRemove(CliApp app)
    {
        var uri = new Argument<string>("uri") { Description = "s3://bucket/key" };
        var command = new Command("rm", "Delete the cached copy of an object (exit 1 when it was not cached)") { uri };
        app.Bind(command, async (ctx, ct) =>
        {
            await using var parts = new Parts(ctx);
            var target = S3Uri.Parse(ctx.Parse.GetValue(uri)!);
            bool removed = await parts.Objects.RemoveAsync(target, ct);
            ctx.Reporter.Info(removed ? $"removed {target}" : $"{target} was not cached");
            ctx.Output.Write(new AssetCacheRemoveResult(target.ToString(), removed), CliJson.Default.AssetCacheRemoveResult);
            return removed ? ExitCodes.Success : ExitCodes.NotFound;
        });
        return command;
    }

    private static Command CacheInvalidate(CliApp app)
    {
        var uri = new Argument<string?>("uri") { Description = "s3://bucket/key", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every cached object" };
        var command = new Command("invalidate", "Make the next use of a cached copy check it with the store (one HEAD)") { uri, all };
        app.Bind(command, async (ctx, ct) =>
        {
            var text = ctx.Parse.GetValue(uri);
            if ((text is null) == !ctx.Parse.GetValue(all)) throw S3PodException.Usage("give either a URI or --all");
            await using var parts = new Parts(ctx);
            var target = text is null ? null : S3Uri.Parse(text);
            int count = await parts.Objects.InvalidateAsync(target, ct);
            ctx.Reporter.Info($"{count} cached object{(count == 1 ? "" : "s")} will be checked on next use");
            ctx.Output.Write(new AssetCacheInvalidateResult(target?.ToString(), count), CliJson.Default.AssetCacheInvalidateResult);
            return target is not null && count == 0 ? ExitCodes.NotFound : ExitCodes.Success;
        });
        return command;
    }
}
