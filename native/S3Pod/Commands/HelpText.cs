using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text;
using S3Pod.Config;

namespace S3Pod.Commands;

/// <summary>
/// s3pod's own help pages. The settings are recursive options on the root (any command accepts any
/// of them, so a config-wide flag never fails a parse), but a command's page lists only its own
/// arguments and options, then the settings that command reads; the whole table is
/// <c>s3pod help settings</c>. Usage lines say <c>s3pod</c>, whatever the executable is called
/// (the release assets are s3pod-linux-x64 and so on). Rendered only when asked: nothing here runs
/// on the way to a command.
/// </summary>
internal static class HelpText
{
    private const int Width = 100;
    public const string Program = "s3pod";

    /// <summary>What a store-using command reads to reach the store.</summary>
    private static readonly Setting[] StoreSettings =
    [
        SettingsTable.Endpoint, SettingsTable.Region, SettingsTable.Bucket, SettingsTable.Prefix,
        SettingsTable.KeyFile, SettingsTable.SecretFile, SettingsTable.Store, SettingsTable.CacheDir,
        SettingsTable.ConnectTimeout, SettingsTable.FirstByteTimeout, SettingsTable.IdleTimeout, SettingsTable.Retries,
    ];

    /// <summary>Artifact commands that only read: they never take the single-writer waiver.</summary>
    private static readonly HashSet<string> ArtifactReads =
        ["artifact pull", "artifact path", "artifact cat", "artifact info", "artifact versions", "artifact list", "artifact alias list", "artifact alias pick"];

    /// <summary>
    /// The settings a command reads, by its path (<c>artifact push</c>). Keyed-object commands add the
    /// arch suffix (ctx.StoreKey), artifact writes the single-writer waiver, asset commands the
    /// assets directory and manifest. A command not named here (a new one) gets the store settings.
    /// </summary>
    public static IReadOnlyList<Setting> SettingsOf(string path)
    {
        var first = path.Split(' ')[0];
        return path switch
        {
            "" => SettingsTable.All,
            "help" or "completion" => [],
            "key" => [SettingsTable.Prefix, SettingsTable.ArchSuffix],
            "init" => SettingsTable.All,
            "list" or "prune" or "doctor" => StoreSettings,
            "download" or "upload" or "exists" or "delete" or "save" or "restore" or "explain" or "inspect"
                => [.. StoreSettings, SettingsTable.ArchSuffix],
            _ when first is "dir" or "docker" => [.. StoreSettings, SettingsTable.ArchSuffix],
            "artifact" => [.. StoreSettings, SettingsTable.AssumeSingleWriter],
            _ when first == "artifact" => ArtifactReads.Contains(path) ? StoreSettings : [.. StoreSettings, SettingsTable.AssumeSingleWriter],
            _ when path.StartsWith("asset cache", StringComparison.Ordinal) => [SettingsTable.CacheDir, SettingsTable.AssetTtl, SettingsTable.AssetImmutable],
            _ when first == "asset" => [.. StoreSettings, SettingsTable.AssetsDir, SettingsTable.Manifest, SettingsTable.AssetTtl, SettingsTable.AssetImmutable],
            _ => StoreSettings,
        };
    }

    /// <summary>Makes every --help print <see cref="Render"/>.</summary>
    public static void Attach(RootCommand root)
    {
        foreach (var help in root.Options.OfType<HelpOption>()) help.Action = new PrintHelp();
    }

    /// <summary><c>s3pod help [COMMAND...]</c> and <c>s3pod help settings</c>.</summary>
    public static Command HelpCommand()
    {
        var topic = new Argument<string[]>("topic") { Description = "A command (artifact push), or settings", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("help", "Show help for a command, or every setting (s3pod help settings)") { topic };
        command.SetAction(parse =>
        {
            var words = parse.GetValue(topic) ?? [];
            var output = parse.InvocationConfiguration.Output;
            if (words is ["settings"])
            {
                output.Write(SettingsPage());
                return ExitCodes.Success;
            }
            Command target = parse.RootCommandResult.Command;
            foreach (var word in words)
            {
                var next = target.Subcommands.FirstOrDefault(c => !c.Hidden && c.Name == word);
                if (next is null)
                {
                    parse.InvocationConfiguration.Error.WriteLine($"{Program}: no command `{Program} {string.Join(' ', words)}` (see `{Program} --help`)");
                    return ExitCodes.OperationalError;
                }
                target = next;
            }
            output.Write(Render(target));
            return ExitCodes.Success;
        });
        return command;
    }

    private sealed class PrintHelp : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.Write(Render(parseResult.CommandResult.Command));
            return ExitCodes.Success;
        }
    }

    /// <summary>The words after <c>s3pod</c> that name the command ("" for the root).</summary>
    public static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c && c is not RootCommand; s = s.Parents.FirstOrDefault()) names.Insert(0, c.Name);
        return string.Join(' ', names);
    }

    public static string Render(Command command)
    {
        var path = PathOf(command);
        var text = new StringBuilder();
        var subcommands = command.Subcommands.Where(c => !c.Hidden).ToList();
        var arguments = command.Arguments.Where(a => !a.Hidden).ToList();
        var usage = new StringBuilder(Program);
        if (path.Length > 0) usage.Append(' ').Append(path);
        foreach (var a in arguments) usage.Append(' ').Append(ArgumentLabel(a));
        if (subcommands.Count > 0) usage.Append(" <command>");
        usage.Append(" [options]");
        text.Append("Usage: ").Append(usage).Append("\n\n");
        if (command.Description is { Length: > 0 } description) text.Append(Wrap(description, 0));

        if (arguments.Count > 0)
            Section(text, "Arguments:", arguments.Select(a => (ArgumentLabel(a), a.Description ?? "")));
        if (subcommands.Count > 0)
            Section(text, "Commands:", subcommands.Select(c => (c.Name, c.Description ?? "")));

        var settingFlags = SettingsTable.All.Where(s => s.Flag is not null).Select(s => s.Flag!).ToHashSet();
        var own = OwnOptions(command).Where(o => !settingFlags.Contains(o.Name) && !o.Hidden).ToList();
        own = [.. own.Where(o => o is not HelpOption && o.Name != "--json"), GlobalOptions.Json];
        Section(text, "Options:", own.Select(o => (OptionLabel(o), OptionDescription(o))).Append(("-h, --help", "Show this help")));

        var settings = SettingsOf(path);
        if (settings.Count > 0)
        {
            var rows = settings.Select(s => (s.Flag is null ? s.EnvVar : $"{s.Flag} {Placeholder(s.Type)}".TrimEnd(),
                s.Flag is null ? s.Description : $"{s.Description} [{s.EnvVar}]"));
            var title = command is RootCommand ? "Settings, taken by any command" : "Settings it reads";
            Section(text, $"{title} (flag > environment > config file; `{Program} help settings`):", rows);
        }
        return text.ToString();
    }

    /// <summary>Every setting with its flag, environment variable, config key and default.</summary>
    public static string SettingsPage()
    {
        var text = new StringBuilder();
        text.Append("Settings: a flag wins over the environment variable, which wins over the config file\n")
            .Append("(~/.config/s3pod/config.toml, or the file $S3POD_CONFIG names), which wins over the default.\n")
            .Append("Credentials: S3POD_S3_KEY_ID and S3POD_S3_SECRET, else key_file and secret_file, else the AWS chain.\n\n");
        foreach (var s in SettingsTable.All)
        {
            text.Append("  ").Append(s.Flag is null ? s.EnvVar : $"{s.Flag} {Placeholder(s.Type)}".TrimEnd()).Append('\n');
            text.Append(Wrap(s.Description, 6));
            var where = $"env {s.EnvVar}, config {s.Key}" + (s.Default.Length > 0 ? $", default {s.Default}" : "");
            text.Append(Wrap(where, 6));
        }
        return text.ToString();
    }

    /// <summary>Options declared on the command, then recursive ones its parents (not the root) declare.</summary>
    private static IEnumerable<Option> OwnOptions(Command command)
    {
        var seen = new HashSet<string>();
        foreach (var o in command.Options)
            if (seen.Add(o.Name)) yield return o;
        if (command is RootCommand) yield break;
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null and not RootCommand; parent = parent.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in parent.Options.Where(o => o.Recursive))
                if (seen.Add(o.Name)) yield return o;
    }

    private static string ArgumentLabel(Argument a)
    {
        var label = $"<{a.HelpName ?? a.Name}>";
        if (a.Arity.MaximumNumberOfValues > 1) label += "...";
        return a.Arity.MinimumNumberOfValues == 0 ? $"[{label}]" : label;
    }

    private static string OptionLabel(Option o)
    {
        var names = o.Aliases.OrderBy(a => a.Length).Append(o.Name).Distinct().ToList();
        names = [.. names.Where(n => n != o.Name), o.Name];
        var label = string.Join(", ", names);
        if (!IsFlag(o)) label += $" <{o.HelpName ?? o.Name.TrimStart('-').ToUpperInvariant()}>";
        return label;
    }

    private static bool IsFlag(Option o) => o.ValueType == typeof(bool);

    private static string OptionDescription(Option o)
    {
        var d = o.Description ?? "";
        if (o.Required) d += " (required)";
        return d;
    }

    private static string Placeholder(SettingType type) => type switch
    {
        SettingType.Bool => "",
        SettingType.Url => "<URL>",
        SettingType.Path => "<PATH>",
        SettingType.Duration => "<DURATION>",
        SettingType.Count => "<N>",
        _ => "<TEXT>",
    };

    private static void Section(StringBuilder text, string title, IEnumerable<(string Left, string Right)> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        text.Append('\n').Append(title).Append('\n');
        // The left column fits its longest label up to a point; a longer label gets its own line.
        int column = Math.Min(list.Max(r => r.Left.Length), 30) + 4;
        foreach (var (left, right) in list)
        {
            var head = "  " + left;
            if (right.Length == 0) { text.Append(head).Append('\n'); continue; }
            if (head.Length + 2 > column)
            {
                text.Append(head).Append('\n').Append(Wrap(right, column));
                continue;
            }
            var wrapped = Wrap(right, column);
            text.Append(head.PadRight(column)).Append(wrapped.AsSpan(column));
        }
    }

    /// <summary>Word-wraps to <see cref="Width"/> with every line indented by <paramref name="indent"/>.</summary>
    private static string Wrap(string text, int indent)
    {
        var lines = new StringBuilder();
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && indent + line.Length + 1 + word.Length > Width)
            {
                lines.Append(' ', indent).Append(line).Append('\n');
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        lines.Append(' ', indent).Append(line).Append('\n');
        return lines.ToString();
    }
}
