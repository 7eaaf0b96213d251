using System.CommandLine;
using System.CommandLine.Help;
using S3Pod.Artifacts;
using S3Pod.Assets;
using S3Pod.Config;

namespace S3Pod.Commands;

/// <summary>
/// <c>s3pod completion bash|zsh|fish|pwsh</c> prints a script for the shell; the script calls
/// <c>s3pod __complete WORD...</c> on TAB, which prints the candidates one per line. Candidates come
/// from the command tree and, for artifact and asset names and versions, from what is on this
/// machine (the artifact record cache, the assets directory): TAB never opens a connection.
/// </summary>
internal static class CompletionCommand
{
    /// <summary>Handled before parsing (CliApp.RunAsync), so the words typed so far, options
    /// included, reach it untouched: no `--` is needed, which PowerShell would not pass on.</summary>
    public const string Hidden = "__complete";

    public static readonly string[] Shells = ["bash", "zsh", "fish", "pwsh"];

    public static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh, fish or pwsh" };
        shell.AcceptOnlyFromAmong(Shells);
        var command = new Command("completion", "Print a shell completion script (see the README for where each goes)") { shell };
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.Write(Script(parse.GetValue(shell)!));
            return ExitCodes.Success;
        });
        return command;
    }

    public static string Script(string shell) => shell switch
    {
        "bash" => Bash,
        "zsh" => Zsh,
        "fish" => Fish,
        "pwsh" => Pwsh,
        _ => throw S3PodException.Usage($"no completion script for {shell}; shells: {string.Join(", ", Shells)}"),
    };

    /// <summary>Writes the candidates for the last word of <paramref name="words"/> (the words after
    /// the program name; the last one is the word under the cursor, possibly empty). Never fails: a
    /// broken config or cache just gives fewer candidates.</summary>
    public static int Complete(RootCommand root, string[] words, Func<string, string?> env, TextWriter stdout)
    {
        try
        {
            foreach (var candidate in Candidates(root, words, env).Distinct(StringComparer.Ordinal)) stdout.WriteLine(candidate);
        }
        catch (Exception e) when (e is S3PodException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Nothing to offer; the shell falls back to file names.
            if (env("S3POD_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e.ToString());
        }
        return ExitCodes.Success;
    }

    private static IEnumerable<string> Candidates(RootCommand root, string[] words, Func<string, string?> env)
    {
        var current = words.Length == 0 ? "" : words[^1];
        var typed = words.Length == 0 ? [] : words[..^1];
        var parse = root.Parse(typed);
        var command = parse.CommandResult.Command;

        // The word after an option that takes a value is that value: nothing to suggest.
        if (typed.Length > 0 && FindOption(command, typed[^1]) is { } pending && pending.ValueType != typeof(bool)) yield break;

        if (current.StartsWith('-'))
        {
            foreach (var o in OptionsOf(command))
                foreach (var name in o.Aliases.Append(o.Name))
                    if (name.StartsWith(current, StringComparison.Ordinal)) yield return name;
            yield break;
        }
        foreach (var c in command.Subcommands.Where(c => !c.Hidden))
            if (c.Name.StartsWith(current, StringComparison.Ordinal)) yield return c.Name;

        // Only the first argument of the artifact and asset commands names an artifact or asset.
        if (parse.CommandResult.Tokens.Count > 0 || command.Arguments.Count == 0) yield break;
        var path = HelpText.PathOf(command);
        var first = command.Arguments[0].Name;
        IEnumerable<string> names = [];
        if (path.StartsWith("artifact ", StringComparison.Ordinal) && first is "name" or "spec")
            names = ArtifactNames(Settings.Resolve(GlobalOptions.ReadFlags(parse), env), withVersions: first == "spec" || current.Contains(':'));
        else if (path.StartsWith("asset ", StringComparison.Ordinal) && first is "spec" or "path")
            {
            var settings = Settings.Resolve(GlobalOptions.ReadFlags(parse), env);
            names = AssetNames(AssetSettings.Resolve(settings.Pick, settings.CacheDir, env).AssetsDir, current.Contains(':'));
        }
        foreach (var n in names)
            if (n.StartsWith(current, StringComparison.Ordinal)) yield return n;
    }

    private static Option? FindOption(Command command, string word) =>
        OptionsOf(command).FirstOrDefault(o => o.Name == word || o.Aliases.Contains(word));

    /// <summary>The options a command accepts: its own, then recursive ones of its parents (the settings, --json).</summary>
    private static IEnumerable<Option> OptionsOf(Command command)
    {
        foreach (var o in command.Options.Where(o => !o.Hidden)) yield return o;
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in parent.Options.Where(o => o.Recursive && !o.Hidden && o is not HelpOption)) yield return o;
    }

    /// <summary>Artifact names (and name:version, name:alias) whose records this machine has read
    /// from the configured store: &lt;cache_dir&gt;/artifacts/records/&lt;store-id&gt;/&lt;name&gt;/.</summary>
    private static IEnumerable<string> ArtifactNames(Settings settings, bool withVersions)
    {
        var root = Path.Combine(settings.CacheDir, "artifacts", "records", RecordCache.StoreId(new StoreFactory(settings, _ => null, new Output.Reporter(TextWriter.Null, false), TimeProvider.System).Identity));
        if (!Directory.Exists(root)) yield break;
        foreach (var record in Directory.EnumerateFiles(root, "_artifact.json", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8 }))
        {
            var dir = Path.GetDirectoryName(record)!;
            var name = Path.GetRelativePath(root, dir).Replace(Path.DirectorySeparatorChar, '/');
            yield return name;
            if (!withVersions) continue;
            foreach (var sub in new[] { "_versions", "_aliases" })
            {
                var d = Path.Combine(dir, sub);
                if (!Directory.Exists(d)) continue;
                foreach (var f in Directory.EnumerateFiles(d, "*.json").OrderDescending(StringComparer.Ordinal))
                    yield return $"{name}:{Path.GetFileNameWithoutExtension(f)}";
            }
        }
    }

    /// <summary>Asset names (and name:version) present in the assets directory. Any word can be a
    /// version name, so a version is known by the record s3pod writes beside it:
    /// ASSETS_DIR/&lt;name&gt;/&lt;version&gt; and ASSETS_DIR/&lt;name&gt;/.&lt;version&gt;.s3pod.json.</summary>
    private static IEnumerable<string> AssetNames(string assetsDir, bool withVersions)
    {
        if (!Directory.Exists(assetsDir)) yield break;
        var root = Path.GetFullPath(assetsDir);
        var pending = new Stack<(string Path, int Depth)>();
        pending.Push((root, 0));
        while (pending.Count > 0)
        {
            var (at, depth) = pending.Pop();
            var versions = Directory.EnumerateFiles(at, ".*.s3pod.json")
                .Select(f => Path.GetFileName(f)[1..^".s3pod.json".Length])
                .Where(v => File.Exists(Path.Combine(at, v)) || Directory.Exists(Path.Combine(at, v)))
                .ToHashSet(StringComparer.Ordinal);
            if (versions.Count > 0 && at != root)
            {
                var name = Path.GetRelativePath(root, at).Replace(Path.DirectorySeparatorChar, '/');
                yield return name;
                if (withVersions)
                    foreach (var v in versions.Select(v => SchemelessVersion.TryParse(v, out var parsed) ? parsed : null).OfType<SchemelessVersion>().OrderDescending())
                        yield return $"{name}:{v.Text}";
            }
            if (depth >= 6) continue;
            foreach (var sub in Directory.EnumerateDirectories(at))
            {
                var leaf = Path.GetFileName(sub);
                if (!leaf.StartsWith('.') && leaf != "_s3pod" && !versions.Contains(leaf)) pending.Push((sub, depth + 1));
            }
        }
    }

    // The scripts pass the words up to the cursor; the last one is the word being completed (empty
    // after a space). Each falls back to file names when s3pod offers nothing.

    private const string Bash = """
        # s3pod completion for bash: source it, or save it as
        # ~/.local/share/bash-completion/completions/s3pod
        _s3pod() {
          local line=${COMP_LINE:0:COMP_POINT}
          local -a words
          read -ra words <<<"$line"
          [[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
          local cur=${words[${#words[@]}-1]}
          local out
          out=$("${words[0]}" __complete "${words[@]:1}" 2>/dev/null) || return 0
          [[ -n $out ]] || return 0
          local IFS=$'\n'
          COMPREPLY=($(compgen -W "$out" -- "$cur"))
          # bash splits words at ':' (COMP_WORDBREAKS): offer only the part after the last one.
          if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
            local pre=${cur%"${cur##*:}"}
            COMPREPLY=("${COMPREPLY[@]#"$pre"}")
          fi
        }
        complete -o default -F _s3pod s3pod

        """;

    private const string Zsh = """
        #compdef s3pod
        # s3pod completion for zsh: save it as _s3pod in a directory on $fpath (before compinit runs),
        # or run `source <(s3pod completion zsh)` after compinit.
        _s3pod() {
          local -a out
          out=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
          out=(${out:#})
          if (( ${#out} )); then
            compadd -Q -- "${out[@]}"
          else
            _files
          fi
        }
        if [[ "${funcstack[1]}" == _s3pod ]]; then
          _s3pod "$@"
        else
          compdef _s3pod s3pod
        fi

        """;

    private const string Fish = """
        # s3pod completion for fish: save it as ~/.config/fish/completions/s3pod.fish
        function __s3pod_complete
            set -l words (commandline -opc)
            # A quoted empty list is one empty word: the word under the cursor, even when blank.
            set -l cur (commandline -ct)
            $words[1] __complete $words[2..-1] "$cur" 2>/dev/null
        end
        complete -c s3pod -f -a '(__s3pod_complete)'

        """;

    private const string Pwsh = """
        # s3pod completion for PowerShell: add `s3pod completion pwsh | Out-String | Invoke-Expression`
        # to your profile ($PROFILE).
        Register-ArgumentCompleter -Native -CommandName 's3pod', 's3pod.exe' -ScriptBlock {
            param($wordToComplete, $commandAst, $cursorPosition)
            $words = @($commandAst.CommandElements |
                Where-Object { $_.Extent.StartOffset -lt $cursorPosition } |
                ForEach-Object { $_.Extent.Text })
            if ($wordToComplete -eq '') { $words += '' }
            $exe = $words[0]
            $rest = @($words | Select-Object -Skip 1)
            & $exe __complete @rest 2>$null | ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
            }
        }

        """;
}
