using System.CommandLine;
using System.Globalization;
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
        foreach (var c in new[] { Fetch(app), PathCommand(app), Cat(app), Get(app), List(app), Check(app), Prefill(app), Pack(app), Unpack(app), Cache(app) })
            asset.Subcommands.Add(c);
        return asset;
    }

    /// <summary>The collaborators of one asset command, built from the invocation's settings.</summary>
    private sealed class Parts : IAsyncDisposable
    {
        private readonly BucketStores _stores;

        public Parts(CommandContext ctx)
        {
            var settings = ctx.Settings.Assets;
            _stores = new BucketStores(ctx.Stores.OpenBucket);
            Objects = new ObjectCache(ctx.ResolvePath(ctx.Settings.CacheDir), settings, _stores, ctx.Clock, ctx.Reporter);
            Assets = new AssetsDirectory(ctx.ResolvePath(settings.AssetsDir));
            Manifest = new ManifestFile(settings.Manifest, ctx.WorkingDirectory);
            Resolver = new AssetResolver(Assets, Manifest, ArtifactSource(ctx), Objects, ctx.Env, ctx.WorkingDirectory, ctx.Reporter, ctx.Clock);
            Service = new AssetService(Resolver, Objects, Manifest, ctx.Env, ctx.Reporter);
        }

        public ObjectCache Objects { get; }
        public AssetsDirectory Assets { get; }
        public ManifestFile Manifest { get; }
        public AssetResolver Resolver { get; }
        public AssetService Service { get; }

        public ValueTask DisposeAsync() => _stores.DisposeAsync();
    }

    /// <summary>The artifact ledger that resolves and supplies versions the assets directory lacks.
    /// None yet: specs resolve from the assets directory alone until `s3pod artifact` is wired in here.</summary>
    private static IAssetSource? ArtifactSource(CommandContext ctx) => null;

    /// <summary>--ttl, --strict, --revalidate: how cached copies are used.</summary>
    private sealed record FetchFlags(Option<string?> Ttl, Option<bool> Strict, Option<bool> Revalidate)
    {
        public static FetchFlags Create() => new(
            new Option<string?>("--ttl") { Description = $"Use a cached s3:// copy this long before one HEAD checks it (0s: always). Env {SettingsTable.AssetTtl.EnvVar}, default {SettingsTable.AssetTtl.Default}", HelpName = "DURATION" },
            new Option<bool>("--strict") { Description = "Fail instead of serving an old copy when the store cannot be reached" },
            new Option<bool>("--revalidate") { Description = "Check cached s3:// copies now, whatever their age" });

        public IEnumerable<Option> All => [Ttl, Strict, Revalidate];

        public FetchOptions Bind(CommandContext ctx) => new(
            ctx.Parse.GetValue(Ttl) is { } ttl ? AssetSettings.ParseTtl(ttl, "--ttl") : ctx.Settings.Assets.Ttl,
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
        var command = new Command("check", "CI guard: exit 1 when the manifest still overrides an asset with a local file or an s3:// object");
        app.Bind(command, async (ctx, _) =>
        {
            await using var parts = new Parts(ctx);
            var result = parts.Service.Check();
            ctx.Output.Write(result, CliJson.Default.AssetCheckResult);
            return result.Ok ? ExitCodes.Success : ExitCodes.NotFound;
        });
        return command;
    }

    private static Option<int> JobsOption() => new("--jobs", "-j") { Description = "Entries fetched at once", DefaultValueFactory = _ => 16, HelpName = "N" };

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
        var level = CacheCommands.LevelOption();
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
                CacheCommands.ValidLevel(ctx.Parse.GetValue(level)), flags.Bind(ctx), ct);
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
