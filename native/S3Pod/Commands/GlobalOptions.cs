using System.CommandLine;
using S3Pod.Config;

namespace S3Pod.Commands;

/// <summary>Options every command accepts (System.CommandLine "recursive" options on the root): one
/// per setting of <see cref="SettingsTable"/> that has a flag, plus <c>--json</c>.</summary>
internal static class GlobalOptions
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print one JSON object on stdout", Recursive = true };

    private static readonly IReadOnlyList<(Setting Setting, Option Option)> Settings = SettingsTable.All
        .Where(s => s.Flag is not null)
        .Select(s => (s, s.Type == SettingType.Bool
            ? (Option)new Option<bool>(s.Flag!) { Description = $"{s.Description}. Env {s.EnvVar}", Recursive = true }
            : new Option<string?>(s.Flag!) { Description = $"{s.Description}. Env {s.EnvVar}", Recursive = true, HelpName = HelpName(s.Type) }))
        .ToList();

    public static IEnumerable<Option> All => Settings.Select(s => s.Option).Append(Json);

    /// <summary>The settings given as flags on this command line, by config key.</summary>
    public static Dictionary<string, string?> ReadFlags(ParseResult parse)
    {
        var flags = new Dictionary<string, string?>();
        foreach (var (setting, option) in Settings)
        {
            // A boolean flag counts only when written: its absence must not override env or config.
            if (option is Option<bool> b)
            {
                if (parse.GetResult(b) is { Implicit: false }) flags[setting.Key] = parse.GetValue(b) ? "true" : "false";
            }
            else if (parse.GetValue((Option<string?>)option) is { } value)
            {
                flags[setting.Key] = value;
            }
        }
        return flags;
    }

    private static string HelpName(SettingType type) => type switch
    {
        SettingType.Url => "URL",
        SettingType.Path => "PATH",
        SettingType.Duration => "DURATION",
        SettingType.Count => "N",
        _ => "TEXT",
    };
}
