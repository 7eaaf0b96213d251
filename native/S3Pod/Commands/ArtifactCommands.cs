using System.CommandLine;
using System.Globalization;
using S3Pod.Artifacts;
using S3Pod.Config;
using S3Pod.Output;

namespace S3Pod.Commands;

/// <summary><c>s3pod artifact …</c>: versioned artifacts over <see cref="ArtifactService"/>.</summary>
internal static class ArtifactCommands
{
    public static Command Create(CliApp app)
    {
        var artifact = new Command("artifact", "Versioned artifacts: immutable numbered versions, a staging head, aliases with canary weights, purge and gc");
        foreach (var c in new[]
        {
            Push(app), Stage(app), Publish(app), Pull(app), PathCommand(app), Cat(app), Info(app), Versions(app), List(app),
            Alias(app), Pick(app), Remove(app), Purge(app), Gc(app),
        })
        {
            artifact.Subcommands.Add(c);
        }
        return artifact;
    }

    private static ArtifactService Service(CommandContext ctx) => FeatureServices.Artifacts(ctx);

    private static Argument<string> NameArgument() => new("name") { Description = "Artifact name (segments of letters, digits, '.', '_', '-' joined by '/')" };
    private static Argument<string> SpecArgument() => new("spec") { Description = "name[:version|alias|latest|head][@sha256:HEX][[sub/path]]" };

    private static string Name(CommandContext ctx, Argument<string> argument) => ArtifactNames.Validate(ctx.Parse.GetValue(argument)!);

    /// <summary>The options that choose a version (push, publish).</summary>
    private sealed record VersionOptions(Option<string?> Version, Option<string?> Bump, Option<string?> MinVersion, Option<bool> BumpMajor, Option<long?> Major)
    {
        public static VersionOptions Create() => new(
            new Option<string?>("--version") { Description = "This exact version (exit 4 if it exists; semver: must be above the latest)", HelpName = "V" },
            new Option<string?>("--bump") { Description = "semver: major, minor or patch (default patch)", HelpName = "PART" },
            new Option<string?>("--min-version") { Description = "semver: at least this version (4 → 4.0.0, 3.7 → 3.7.0)", HelpName = "V" },
            new Option<bool>("--bump-major") { Description = "major-minor: (highest major + 1).0" },
            new Option<long?>("--major") { Description = "major-minor: the next minor within major X", HelpName = "X" });

        public IEnumerable<Option> All => [Version, Bump, MinVersion, BumpMajor, Major];

        public VersionRequest Bind(CommandContext ctx) => new(
            ctx.Parse.GetValue(Version),
            ctx.Parse.GetValue(Bump) switch
            {
                null => null,
                "major" => SemverBump.Major,
                "minor" => SemverBump.Minor,
                "patch" => SemverBump.Patch,
                var other => throw S3PodException.Usage($"--bump must be major, minor or patch, not '{other}'"),
            },
            ctx.Parse.GetValue(MinVersion),
            ctx.Parse.GetValue(BumpMajor),
            ctx.Parse.GetValue(Major));
    }

    private static Option<string[]> AliasOption() => new("--alias") { Description = "Move this alias to the new version (repeatable)", HelpName = "ALIAS" };
    private static Option<string[]> MetaOption() => new("--meta") { Description = "Metadata kept in the record (repeatable)", HelpName = "KEY=VALUE" };
    private static Option<string?> ContentTypeOption() => new("--content-type") { Description = "Content type stored with the content", HelpName = "TYPE" };
    private static Option<string?> SchemeOption() => new("--scheme") { Description = "Version scheme of a new artifact: int (default), semver, major-minor, date", HelpName = "SCHEME" };

    private static IReadOnlyList<string> Aliases(CommandContext ctx, Option<string[]> option) =>
        (ctx.Parse.GetValue(option) ?? []).Select(ArtifactNames.ValidateAlias).Distinct().ToList();

    private static Dictionary<string, string> Metadata(CommandContext ctx, Option<string[]> option)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in ctx.Parse.GetValue(option) ?? [])
        {
            int eq = pair.IndexOf('=');
            var key = eq < 0 ? "" : pair[..eq];
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw S3PodException.Usage($"--meta '{pair}' must be KEY=VALUE with a key of letters, digits, '.', '_', '-'");
            if (!metadata.TryAdd(key, pair[(eq + 1)..])) throw S3PodException.Usage($"--meta {key} is given twice");
        }
        return metadata;
    }

    private static Command Push(CliApp app)
    {
        var name = NameArgument();
        var path = new Argument<string>("path") { Description = "A file, or a directory (stored as one tar+zstd archive)" };
        var scheme = SchemeOption();
        var versions = VersionOptions.Create();
        var alias = AliasOption();
        var meta = MetaOption();
        var contentType = ContentTypeOption();
        var level = SharedOptions.LevelOption();
        var writeOnly = new Option<bool>("--write-only") { Description = "Only PutObject: no probe, list or read (needs --scheme date; for write-only CI credentials)" };
        var command = new Command("push", "Push a file or directory as the next version; prints the version") { name, path, scheme, alias, meta, contentType, level, writeOnly };
        foreach (var o in versions.All) command.Options.Add(o);
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new PushRequest(Name(ctx, name), ctx.ResolvePath(ctx.Parse.GetValue(path)!), ctx.Parse.GetValue(scheme), versions.Bind(ctx),
                Aliases(ctx, alias), Metadata(ctx, meta), ctx.Parse.GetValue(contentType), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)), ctx.Parse.GetValue(writeOnly));
            var result = await Service(ctx).PushAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.PushResult, result.Version);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Stage(CliApp app)
    {
        var name = NameArgument();
        var path = new Argument<string>("path") { Description = "A file or directory" };
        var scheme = SchemeOption();
        var meta = MetaOption();
        var contentType = ContentTypeOption();
        var level = SharedOptions.LevelOption();
        var command = new Command("stage", "Replace the staging head (publish turns it into a version)") { name, path, scheme, meta, contentType, level };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new StageRequest(Name(ctx, name), ctx.ResolvePath(ctx.Parse.GetValue(path)!), ctx.Parse.GetValue(scheme), Metadata(ctx, meta),
                ctx.Parse.GetValue(contentType), SharedOptions.ValidLevel(ctx.Parse.GetValue(level)));
            var result = await Service(ctx).StageAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.StageResult, result.Digest);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Publish(CliApp app)
    {
        var name = NameArgument();
        var ifChanged = new Option<bool>("--if-changed") { Description = "Do nothing when the head's content equals the latest version's" };
        var versions = VersionOptions.Create();
        var alias = AliasOption();
        var command = new Command("publish", "Turn the staging head into the next immutable version; prints the version") { name, ifChanged, alias };
        foreach (var o in versions.All) command.Options.Add(o);
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new PublishRequest(Name(ctx, name), versions.Bind(ctx), Aliases(ctx, alias), ctx.Parse.GetValue(ifChanged));
            var result = await Service(ctx).PublishAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.PushResult, result.Version);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Pull(CliApp app)
    {
        var spec = SpecArgument();
        var output = new Option<string?>("--output", "-o") { Description = "Where to write (default: the recorded file name, or the name's last segment for a directory)", HelpName = "OUT" };
        var command = new Command("pull", "Download what a spec resolves to, verified; a directory is extracted") { spec, output };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new PullRequest(ArtifactSpec.Parse(ctx.Parse.GetValue(spec)!), ctx.Parse.GetValue(output) is { } o ? ctx.ResolvePath(o) : null, ctx.WorkingDirectory);
            var result = await Service(ctx).PullAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.PullResult, result.Path);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command PathCommand(CliApp app)
    {
        var spec = SpecArgument();
        var command = new Command("path", "Print a local path to the content, downloaded once into the local cache (a pinned version needs no network the second time)") { spec };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).PathAsync(ArtifactSpec.Parse(ctx.Parse.GetValue(spec)!), ct);
            ctx.Output.Write(result, CliJson.Default.PathResult, result.Path);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Cat(CliApp app)
    {
        var spec = SpecArgument();
        var command = new Command("cat", "Write a file artifact's content to stdout (verified; a mismatch exits 5 at the end)") { spec };
        app.Bind(command, async (ctx, ct) =>
        {
            if (ctx.Output.Json) throw S3PodException.Usage("cat writes the content itself to stdout; use `s3pod artifact info --json` for the record");
            await using var stdout = Console.OpenStandardOutput();
            await Service(ctx).CatAsync(ArtifactSpec.Parse(ctx.Parse.GetValue(spec)!), stdout, ct);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Info(CliApp app)
    {
        var spec = SpecArgument();
        var command = new Command("info", "Show the record a spec resolves to, and how it resolved") { spec };
        app.Bind(command, async (ctx, ct) =>
        {
            var r = await Service(ctx).InfoAsync(ArtifactSpec.Parse(ctx.Parse.GetValue(spec)!), ct);
            var c = r.Record?.Content ?? r.Head!.Content;
            var lines = new List<string>
            {
                $"name:      {r.Name}",
                $"version:   {r.Version ?? "head"}{(r.Deleted ? " (deleted)" : "")}",
                $"resolved:  {r.ResolvedBy}{(r.Alias is null ? "" : $" (alias {r.Alias})")}",
                $"scheme:    {r.Scheme}",
                $"kind:      {c.Kind}",
                $"digest:    {c.Digest}",
                $"size:      {c.Size}{(c.ContentSize is { } u ? $" ({c.Files} files, {u} bytes unpacked)" : "")}",
            };
            if (c.Basename is not null) lines.Add($"file:      {c.Basename} ({c.Mode})");
            lines.Add(r.Record is { } v ? $"created:   {v.Created:u} by {v.CreatedBy}" : $"updated:   {r.Head!.Updated:u} by {r.Head.UpdatedBy}");
            foreach (var (k, value) in (r.Record?.Metadata ?? r.Head?.Metadata ?? []).OrderBy(m => m.Key, StringComparer.Ordinal)) lines.Add($"meta:      {k}={value}");
            ctx.Output.Write(r, CliJson.Default.InfoResult, string.Join('\n', lines));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Versions(CliApp app)
    {
        var name = NameArgument();
        var all = new Option<bool>("--all") { Description = "Include deleted versions" };
        var command = new Command("versions", "List versions, newest first, with the aliases pointing at each") { name, all };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).VersionsAsync(Name(ctx, name), ctx.Parse.GetValue(all), ct);
            var plain = string.Join('\n', result.Versions.Select(v =>
                v.Version + (v.Aliases.Count > 0 ? "\t" + string.Join(',', v.Aliases) : "") + (v.Deleted ? "\t(deleted)" : "")));
            ctx.Output.Write(result, CliJson.Default.VersionsResult, plain.Length == 0 ? null : plain);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var prefix = new Argument<string?>("prefix") { Description = "Only names starting with this", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List artifact names") { prefix };
        app.Bind(command, async (ctx, ct) =>
        {
            var p = (ctx.Parse.GetValue(prefix) ?? "").TrimStart('/');
            if (p.Length > 0) Storage.ObjectKeys.ValidatePrefix(p, "artifact prefix");
            var result = await Service(ctx).ListAsync(p, ct);
            ctx.Output.Write(result, CliJson.Default.ArtifactListResult, result.Artifacts.Count == 0 ? null : string.Join('\n', result.Artifacts));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Alias(CliApp app)
    {
        var alias = new Command("alias", "Named pointers at versions (blue/green, rollback, canary weights)");
        alias.Subcommands.Add(AliasSet(app));
        alias.Subcommands.Add(AliasRollback(app));
        alias.Subcommands.Add(AliasRemove(app));
        alias.Subcommands.Add(AliasList(app));
        return alias;
    }

    private static Option<string?> ExpectOption() =>
        new("--expect") { Description = "Only if the alias points at this version now (none: only if it does not exist); else exit 4", HelpName = "VERSION" };

    private static Command AliasSet(CliApp app)
    {
        var name = NameArgument();
        var alias = new Argument<string>("alias");
        var version = new Argument<string>("version") { Description = "A version, a partial version or latest (resolved now)" };
        var secondary = new Option<string?>("--secondary") { Description = "A second version for a canary split", HelpName = "VERSION" };
        var weight = new Option<int?>("--weight") { Description = "Percent of picks (0-100) that get the secondary", HelpName = "N" };
        var expect = ExpectOption();
        var command = new Command("set", "Point ALIAS at VERSION (compare-and-swap; prints the version)") { name, alias, version, secondary, weight, expect };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new AliasSetRequest(Name(ctx, name), ctx.Parse.GetValue(alias)!, ctx.Parse.GetValue(version)!, ctx.Parse.GetValue(secondary),
                ctx.Parse.GetValue(weight), ctx.Parse.GetValue(expect));
            var result = await Service(ctx).SetAliasAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.AliasResult, result.Version);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command AliasRollback(CliApp app)
    {
        var name = NameArgument();
        var alias = new Argument<string>("alias");
        var expect = ExpectOption();
        var command = new Command("rollback", "Point ALIAS back at the version it pointed at before its last move (compare-and-swap against the current one; prints the version)") { name, alias, expect };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).RollbackAliasAsync(Name(ctx, name), ctx.Parse.GetValue(alias)!, ctx.Parse.GetValue(expect), ct);
            ctx.Output.Write(result, CliJson.Default.AliasResult, result.Version);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command AliasRemove(CliApp app)
    {
        var name = NameArgument();
        var alias = new Argument<string>("alias");
        var expect = ExpectOption();
        var command = new Command("rm", "Remove an alias") { name, alias, expect };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).RemoveAliasAsync(Name(ctx, name), ctx.Parse.GetValue(alias)!, ctx.Parse.GetValue(expect), ct);
            ctx.Output.Write(result, CliJson.Default.AliasRemoveResult);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command AliasList(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("list", "List aliases: ALIAS VERSION [SECONDARY WEIGHT%]") { name };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).ListAliasesAsync(Name(ctx, name), ct);
            var plain = string.Join('\n', result.Aliases.Select(a =>
                $"{a.Alias}\t{a.Version}" + (a.Secondary is null ? "" : string.Create(CultureInfo.InvariantCulture, $"\t{a.Secondary}\t{a.Weight}%"))));
            ctx.Output.Write(result, CliJson.Default.AliasListResult, plain.Length == 0 ? null : plain);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Pick(CliApp app)
    {
        var name = NameArgument();
        var alias = new Argument<string>("alias");
        var seed = new Option<string?>("--seed") { Description = "Make the pick stable for this seed (a host name): the same version every time", HelpName = "S" };
        var command = new Command("pick", "Print the version one request gets under the alias's canary split") { name, alias, seed };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).PickAsync(Name(ctx, name), ctx.Parse.GetValue(alias)!, ctx.Parse.GetValue(seed), ct);
            ctx.Output.Write(result, CliJson.Default.PickResult, result.Version);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var name = NameArgument();
        var version = new Argument<string>("version");
        var force = new Option<bool>("--force") { Description = "Remove the aliases that point at the version first" };
        var command = new Command("rm", "Delete a version (a tombstone: its number is never reused)") { name, version, force };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).RemoveVersionAsync(Name(ctx, name), ctx.Parse.GetValue(version)!, ctx.Parse.GetValue(force), ct);
            ctx.Output.Write(result, CliJson.Default.RemoveResult);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Purge(CliApp app)
    {
        var name = NameArgument();
        var keepLast = new Option<int>("--keep-last") { Description = "Never delete the newest N live versions", Required = true, HelpName = "N" };
        var olderThan = new Option<string>("--older-than") { Description = "Only delete versions older than this (e.g. 90d)", Required = true, HelpName = "AGE" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would be deleted" };
        var includeAliased = new Option<bool>("--include-aliased") { Description = "Also delete versions aliases point at (removing those aliases)" };
        var command = new Command("purge", "Delete versions outside the last N and older than AGE; aliased versions are kept") { name, keepLast, olderThan, dryRun, includeAliased };
        app.Bind(command, async (ctx, ct) =>
        {
            var request = new PurgeRequest(Name(ctx, name), ctx.Parse.GetValue(keepLast), Values.ParseDuration(ctx.Parse.GetValue(olderThan)!, "--older-than"),
                ctx.Parse.GetValue(dryRun), ctx.Parse.GetValue(includeAliased));
            var result = await Service(ctx).PurgeAsync(request, ct);
            ctx.Output.Write(result, CliJson.Default.PurgeResult, result.Deleted.Count == 0 ? null : string.Join('\n', result.Deleted));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Gc(CliApp app)
    {
        var grace = new Option<string>("--grace") { Description = "Spare unreferenced content younger than this (a push in flight uploads before it commits)", DefaultValueFactory = _ => "7d", HelpName = "AGE" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would be deleted" };
        var command = new Command("gc", "Delete content no version, head or recent tombstone points at") { grace, dryRun };
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await Service(ctx).GcAsync(Values.ParseDuration(ctx.Parse.GetValue(grace)!, "--grace"), ctx.Parse.GetValue(dryRun), ct);
            ctx.Output.Write(result, CliJson.Default.GcResult, result.Deleted.Count == 0 ? null : string.Join('\n', result.Deleted.Select(d => d.Key)));
            return ExitCodes.Success;
        });
        return command;
    }
}
