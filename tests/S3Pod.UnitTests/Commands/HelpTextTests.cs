using S3Pod.Commands;
using S3Pod.Config;

namespace S3Pod.UnitTests.Commands;

/// <summary>Each command's help: its own arguments and options, then only the settings it reads;
/// the program is called s3pod whatever the executable's name.</summary>
public class HelpTextTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-help-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = new Dictionary<string, string> { ["HOME"] = _dir, ["S3POD_STORE"] = Path.Combine(_dir, "store") };
        var app = new CliApp(n => env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, _dir);
        var code = await app.RunAsync(args, default);
        return (code, stdout.ToString().Replace("\r", ""), stderr.ToString());
    }

    /// <summary>The flags of the lines of one section (two-space indented, up to the next blank line).</summary>
    private static List<string> Section(string help, string titleStart)
    {
        var lines = help.Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith(titleStart, StringComparison.Ordinal));
        Assert.True(at >= 0, $"no section {titleStart} in:\n{help}");
        return lines.Skip(at + 1).TakeWhile(l => l.Length > 0)
            .Where(l => l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("   ", StringComparison.Ordinal))
            .Select(l => l.Trim().Split(' ')[0].TrimEnd(','))
            .ToList();
    }

    private static readonly string[] StoreFlags =
        ["--endpoint", "--region", "--bucket", "--prefix", "--key-file", "--secret-file", "--store", "--cache-dir",
         "--connect-timeout", "--first-byte-timeout", "--idle-timeout", "--retries"];

    [Fact]
    public async Task Exists_ListsItsArgument_AndOnlyTheSettingsItReads()
    {
        var (code, help, _) = await Run("exists", "--help");
        Assert.Equal(0, code);
        Assert.StartsWith("Usage: s3pod exists <key> [options]\n", help);
        Assert.Equal(["<key>"], Section(help, "Arguments:"));
        Assert.Equal(["--json", "-h"], Section(help, "Options:"));
        Assert.Equal([.. StoreFlags, "--arch-suffix"], Section(help, "Settings it reads"));
        foreach (var unused in new[] { "--manifest", "--assets-dir", "--assume-single-writer" }) Assert.DoesNotContain(unused, help);
    }

    [Fact]
    public async Task ArtifactPush_HasItsOptions_AndTheSingleWriterWaiver_ButNoAssetSettings()
    {
        var (_, help, _) = await Run("artifact", "push", "--help");
        Assert.StartsWith("Usage: s3pod artifact push <name> <path> [options]\n", help);
        Assert.Contains("--scheme", Section(help, "Options:"));
        Assert.Contains("--write-only", Section(help, "Options:"));
        Assert.Equal([.. StoreFlags, "--assume-single-writer"], Section(help, "Settings it reads"));
        Assert.DoesNotContain("--manifest", help);
    }

    [Fact]
    public async Task ArtifactPull_ReadsNoWriterWaiver()
    {
        var (_, help, _) = await Run("artifact", "pull", "--help");
        Assert.Equal(StoreFlags, Section(help, "Settings it reads"));
    }

    [Fact]
    public async Task AssetSync_ListsTheAssetSettings_AndTheEnvOnlyOnesByVariable()
    {
        var (_, help, _) = await Run("asset", "sync", "--help");
        var settings = Section(help, "Settings it reads");
        Assert.Contains("--manifest", settings);
        Assert.Contains("--assets-dir", settings);
        Assert.Contains(SettingsTable.AssetTtl.EnvVar, settings);
        Assert.DoesNotContain("--assume-single-writer", settings);
        Assert.Contains("-j", Section(help, "Options:"));
    }

    [Fact]
    public async Task Key_ReadsOnlyPrefixAndArchSuffix()
    {
        var (_, help, _) = await Run("key", "--help");
        Assert.Equal(["--prefix", "--arch-suffix"], Section(help, "Settings it reads"));
        Assert.Equal(["--hash-from", "--hash-length", "--json", "-h"], Section(help, "Options:"));
    }

    [Fact]
    public async Task Completion_ReadsNoSetting()
    {
        var (_, help, _) = await Run("completion", "--help");
        Assert.DoesNotContain("Settings", help);
        Assert.StartsWith("Usage: s3pod completion <shell> [options]\n", help);
    }

    [Fact]
    public async Task Root_ListsCommands_AndEverySettingFlag()
    {
        var (code, help, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.StartsWith("Usage: s3pod <command> [options]\n", help);
        Assert.Contains("completion", Section(help, "Commands:"));
        Assert.DoesNotContain("__complete", help);
        var flags = SettingsTable.All.Select(s => s.Flag ?? s.EnvVar).ToList();
        Assert.Equal(flags, Section(help, "Settings, taken by any command"));
    }

    [Fact]
    public async Task HelpSettings_ShowsEveryKeyEnvAndDefault()
    {
        var (code, page, _) = await Run("help", "settings");
        Assert.Equal(0, code);
        foreach (var s in SettingsTable.All)
        {
            Assert.Contains($"env {s.EnvVar}, config {s.Key}", page);
            if (s.Default.Length > 0) Assert.Contains($"default {s.Default}", page);
        }
    }

    [Fact]
    public async Task HelpCommand_IsTheCommandsHelp_AndAnUnknownOneExitsTwo()
    {
        Assert.Equal((await Run("artifact", "alias", "set", "--help")).Out, (await Run("help", "artifact", "alias", "set")).Out);
        var (code, stdout, stderr) = await Run("help", "frobnicate");
        Assert.Equal(ExitCodes.OperationalError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("s3pod: no command `s3pod frobnicate`", stderr);
    }

    [Fact]
    public async Task EveryCommandsHelp_NamesTheProgramS3pod_AndFitsOneHundredColumns()
    {
        var root = new CliApp(_ => null, TextWriter.Null, TextWriter.Null, false, _dir).BuildRoot();
        var pending = new Stack<System.CommandLine.Command>([root]);
        while (pending.Count > 0)
        {
            var command = pending.Pop();
            foreach (var c in command.Subcommands.Where(c => !c.Hidden)) pending.Push(c);
            var help = HelpText.Render(command);
            Assert.StartsWith($"Usage: s3pod {HelpText.PathOf(command)}".Replace("s3pod  ", "s3pod "), help);
            foreach (var line in help.Split('\n')) Assert.True(line.Length <= 100, $"{HelpText.PathOf(command)}: {line}");
        }
    }
}
