using System.Diagnostics;

namespace S3Pod.NativeTests;

/// <summary>
/// The scripts `s3pod completion SHELL` prints, run by the real shells against the real binary
/// (installed as `s3pod` on PATH) over the local store: bash through its completion variables
/// (COMP_LINE, COMP_POINT, `complete -p`), zsh with compadd/compdef stood in (the completion system
/// needs a terminal), fish through `complete -C`, pwsh through TabExpansion2. tests/run-all.sh
/// installs zsh, fish and pwsh.
/// </summary>
public sealed class ShellCompletionTests : IDisposable
{
    private readonly Binary _s3pod = new(useServer: false);
    private readonly string _bin;

    public ShellCompletionTests()
    {
        _bin = Path.Combine(_s3pod.Root, "bin");
        Directory.CreateDirectory(_bin);
    }

    public void Dispose() => _s3pod.Dispose();

    /// <summary>Installs the binary as `s3pod` and pushes an artifact (two versions, an alias) so
    /// the record cache has names to offer.</summary>
    private void Prepare()
    {
        Binary.SkipIfAbsent(needsServer: false);
        Skip.If(Binary.Emulated, "the shells run the binary directly, not through the emulator");
        File.CreateSymbolicLink(Path.Combine(_bin, "s3pod"), Binary.Path!);
        _s3pod.Env["PATH"] = $"{_bin}:{_s3pod.Env["PATH"]}";
        _s3pod.WriteFile("a.txt", "one");
        Assert.Equal(0, _s3pod.Exec("artifact", "push", "web/app", "a.txt").Code);
        _s3pod.WriteFile("a.txt", "two");
        Assert.Equal(0, _s3pod.Exec("artifact", "push", "web/app", "a.txt", "--alias", "live").Code);
    }

    private Run Shell(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { WorkingDirectory = _s3pod.Work, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment.Clear();
        foreach (var (k, v) in _s3pod.Env) psi.Environment[k] = v;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } root) psi.Environment["DOTNET_ROOT"] = root;
        else psi.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(Environment.ProcessPath!)!;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2))) { p.Kill(true); throw new TimeoutException($"{program} timed out"); }
        return new Run(p.ExitCode, output.Result, err.Result);
    }

    private static string? Find(string name, params string[] extraDirs)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(extraDirs))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    private static string[] Lines(Run r) => r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [SkippableFact]
    public void Bash_RegistersForS3pod_AndCompletesCommandsOptionsAndArtifactSpecs()
    {
        Prepare();
        const string complete = """
            source <(s3pod completion bash)
            complete -p s3pod
            tab() { COMP_LINE=$1; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<<"$COMP_LINE"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _s3pod; echo "[$1] ${COMPREPLY[*]}"; }
            tab 's3pod artifact pu'
            tab 's3pod artifact push --bu'
            tab 's3pod artifact versions w'
            tab 's3pod artifact pull web/app:'
            """;
        var r = Shell("bash", "-c", complete);
        Assert.True(r.Code == 0, r.All);
        var lines = Lines(r);
        Assert.Equal("complete -o default -F _s3pod s3pod", lines[0]);
        Assert.Equal("[s3pod artifact pu] push publish pull purge", lines[1]);
        Assert.Equal("[s3pod artifact push --bu] --bump --bump-major --bucket", lines[2]);
        Assert.Equal("[s3pod artifact versions w] web/app", lines[3]);
        // bash splits words at ':', so the candidates are what follows it: the versions and the alias.
        Assert.StartsWith("[s3pod artifact pull web/app:] ", lines[4]);
        Assert.Equal(["1", "2", "live"], lines[4]["[s3pod artifact pull web/app:] ".Length..].Split(' ').Order());
    }

    [SkippableFact]
    public void Zsh_OffersTheCandidatesToCompadd()
    {
        Prepare();
        var zsh = Find("zsh");
        Skip.If(zsh is null, "zsh is not installed (apt-get install zsh; tests/run-all.sh does it)");
        const string complete = """
            compdef() { print -r -- "compdef $*" }
            compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; shift; done; print -r -- "${(j: :)@}" }
            _files() { print -r -- FILES }
            source <(s3pod completion zsh)
            words=(s3pod artifact pu); CURRENT=3; _s3pod
            words=(s3pod artifact pull web/app:); CURRENT=4; _s3pod
            words=(s3pod artifact push --scheme ''); CURRENT=5; _s3pod
            """;
        var r = Shell(zsh!, "-f", "-c", complete);
        Assert.True(r.Code == 0, r.All);
        var lines = Lines(r);
        Assert.Equal("compdef _s3pod s3pod", lines[0]);
        Assert.Equal("push publish pull purge", lines[1]);
        Assert.Equal(["web/app:1", "web/app:2", "web/app:live"], lines[2].Split(' ').Order());
        Assert.Equal("FILES", lines[3]);
    }

    [SkippableFact]
    public void Fish_CompletesThroughCompleteC()
    {
        Prepare();
        var fish = Find("fish");
        Skip.If(fish is null, "fish is not installed (apt-get install fish; tests/run-all.sh does it)");
        var r = Shell(fish!, "--no-config", "-c", "s3pod completion fish | source; complete -C 's3pod artifact pu'; echo ---; complete -C 's3pod artifact pull web/app:'");
        Assert.True(r.Code == 0, r.All);
        var (first, second) = (r.Out.Split("---")[0], r.Out.Split("---")[1]);
        Assert.Equal(["publish", "pull", "purge", "push"], Lines(new Run(0, first, "")).Select(l => l.Split('\t')[0]).Order());
        Assert.Equal(["web/app:1", "web/app:2", "web/app:live"], Lines(new Run(0, second, "")).Select(l => l.Split('\t')[0]).Order());
    }

    [SkippableFact]
    public void Pwsh_CompletesThroughTabExpansion2()
    {
        Prepare();
        var pwsh = Find("pwsh", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools"));
        Skip.If(pwsh is null, "pwsh is not installed (dotnet tool install -g PowerShell --version 7.6.10; tests/run-all.sh does it)");
        const string complete = """
            s3pod completion pwsh | Out-String | Invoke-Expression
            foreach ($line in 's3pod artifact pu', 's3pod artifact pull web/app:', 's3pod artifact push --bu') {
                (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText -join ' '
            }
            """;
        var r = Shell(pwsh!, "-NoProfile", "-NonInteractive", "-Command", complete);
        Assert.True(r.Code == 0, r.All);
        var lines = Lines(r);
        Assert.Equal(["publish", "pull", "purge", "push"], lines[0].Split(' ').Order());
        Assert.Equal(["web/app:1", "web/app:2", "web/app:live"], lines[1].Split(' ').Order());
        Assert.Equal(["--bucket", "--bump", "--bump-major"], lines[2].Split(' ').Order());
    }
}
