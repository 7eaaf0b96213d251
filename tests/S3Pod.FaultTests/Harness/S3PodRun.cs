using System.Diagnostics;
using System.Text.RegularExpressions;

namespace S3Pod.FaultTests.Harness;

/// <summary>One finished (or killed) run of the binary.</summary>
internal sealed record S3PodRun(IReadOnlyList<string> Args, int Code, string Out, string Err, TimeSpan Elapsed, bool Killed)
{
    public string All => Out + Err;

    /// <summary>s3pod's error lines: <c>s3pod: …</c> but not <c>s3pod: warning: …</c>.</summary>
    public IReadOnlyList<string> ErrorLines =>
        Err.Split('\n').Where(l => l.StartsWith("s3pod: ", StringComparison.Ordinal) && !l.StartsWith("s3pod: warning:", StringComparison.Ordinal)).ToList();

    /// <summary>The line worth showing in a table: the first error line, else the first line of stderr.</summary>
    public string Headline =>
        Killed ? $"(killed after {Elapsed.TotalSeconds:0} s){(FirstLine(Err) is { Length: > 0 } l ? " " + l : "")}"
        : ErrorLines.FirstOrDefault() ?? FirstLine(Err);

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";

    public override string ToString() =>
        $"s3pod {string.Join(' ', Args.Select(Quote))}\n  exit {(Killed ? "KILLED" : Code)} after {Elapsed.TotalSeconds:0.0} s\n  stdout: {Out.Trim()}\n  stderr: {Err.Trim().Replace("\n", "\n          ")}";

    private static string Quote(string a) => a.Length == 0 ? "''" : Regex.IsMatch(a, @"^[\w./:=@%+,-]+$") ? a : $"'{a}'";
}

/// <summary>Runs the published binary as a process with a hard kill, so a hang is a result, not a stuck suite.</summary>
internal static class S3PodProcess
{
    /// <summary>Long past any bound a fixed binary needs with the suite's 2 s timeouts.</summary>
    public static readonly TimeSpan HardKill = TimeSpan.FromSeconds(60);

    public static async Task<S3PodRun> RunAsync(string cwd, IReadOnlyDictionary<string, string> env, IReadOnlyList<string> args, TimeSpan? limit = null, string? file = null)
    {
        var psi = new ProcessStartInfo(file ?? Servers.BinaryPath!)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.Environment.Clear();
        foreach (var (k, v) in env) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        bool killed = false;
        using (var timeout = new CancellationTokenSource(limit ?? HardKill))
        {
            try
            {
                await p.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                killed = true;
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* exited meanwhile */ }
                await p.WaitForExitAsync();
            }
        }
        var elapsed = clock.Elapsed;
        // A killed run's children (docker save) may hold the pipes a moment longer.
        string Read(Task<string> t) => t.Wait(TimeSpan.FromSeconds(10)) ? t.Result : "(output not closed)";
        return new S3PodRun(args, killed ? -1 : p.ExitCode, Read(stdout), Read(stderr), elapsed, killed);
    }
}
