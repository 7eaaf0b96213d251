using System.Diagnostics;
using System.Text;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace S3Pod.NativeTests;

internal sealed record Run(int Code, string Out, string Err)
{
    public string All => Out + Err;
}

/// <summary>
/// The published binary, run the way CI runs it: a clean environment (no inherited AWS_* or S3POD_*,
/// except S3POD_FS, which selects the file-system layer for the suite's second pass), its own HOME,
/// a working directory. Tests skip with a reason when the binary or server is absent.
/// S3POD_TEST_BINARY_LAUNCHER runs it through an emulator, e.g. "qemu-aarch64 -L /" for the
/// cross-built linux-arm64 binary (binfmt_misc is not needed).
/// </summary>
internal sealed class Binary : IDisposable
{
    public static string? Path => Environment.GetEnvironmentVariable("S3POD_TEST_BINARY");

    /// <summary>True when the binary runs under an emulator (timing bounds and signal delivery differ there).</summary>
    public static bool Emulated => Launcher.Length > 0;

    /// <summary>True when the launcher is Wine: the binary is the win-x64 build and sees Windows paths
    /// (Z:\ is the Linux root), Windows file-name rules and Wine's own %USERPROFILE%.</summary>
    public static bool Wine => Launcher.Length > 0 && System.IO.Path.GetFileName(Launcher[0]).StartsWith("wine", StringComparison.Ordinal);

    /// <summary>The launcher's words (program, then arguments before the binary), empty to run the binary itself.</summary>
    private static readonly string[] Launcher =
        (Environment.GetEnvironmentVariable("S3POD_TEST_BINARY_LAUNCHER") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The exit status of a binary that killed itself: SIGKILL's 128+9 on Unix; on Windows
    /// Process.Kill is TerminateProcess with -1, which reaches Linux through Wine as 255.</summary>
    public static int KilledExitCode => Wine ? 255 : 137;

    /// <summary>A Linux path as the Wine-run binary names it (Wine maps the Linux root to drive Z:).</summary>
    public static string WinPath(string linuxPath) => "Z:" + linuxPath.Replace('/', '\\');

    /// <summary>Skips a test that checks POSIX behaviour the Windows build does not have, saying which.</summary>
    public static void SkipOnWine(string why) => Skip.If(Wine, "not under Wine (win-x64 build): " + why);

    /// <summary>Start info for the binary (through the launcher if one is set), arguments still to add.</summary>
    public static ProcessStartInfo StartInfo()
    {
        if (Launcher.Length == 0) return new ProcessStartInfo(Path!);
        var psi = new ProcessStartInfo(Launcher[0]);
        foreach (var word in Launcher.Skip(1)) psi.ArgumentList.Add(word);
        psi.ArgumentList.Add(Path!);
        return psi;
    }
    public static string? Endpoint => Environment.GetEnvironmentVariable("S3POD_TEST_S3_ENDPOINT");
    public static string KeyId => Environment.GetEnvironmentVariable("S3POD_TEST_S3_KEY_ID") ?? "";
    public static string Secret => Environment.GetEnvironmentVariable("S3POD_TEST_S3_SECRET") ?? "";
    public static string Region => Environment.GetEnvironmentVariable("S3POD_TEST_S3_REGION") ?? "us-east-1";

    /// <summary>What the test server's start script says it enforces (create-only, compare-and-swap, ...).</summary>
    public static bool ServerEnforces(string capability) =>
        (Environment.GetEnvironmentVariable("S3POD_TEST_S3_ENFORCES") ?? "").Split(',', StringSplitOptions.TrimEntries).Contains(capability);

    public static void SkipIfAbsent(bool needsServer = true)
    {
        Skip.If(string.IsNullOrEmpty(Path) || !File.Exists(Path), "no native binary: S3POD_TEST_BINARY is not set (run ./publish-aot.sh; tests/run-all.sh sets it)");
        if (needsServer) Skip.If(string.IsNullOrEmpty(Endpoint), "no S3 server: S3POD_TEST_S3_ENDPOINT is not set (tests/run-all.sh starts Ceph RGW)");
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("s3pod-native-").FullName;
    public string Home => System.IO.Path.Combine(Root, "home");
    public string Work => System.IO.Path.Combine(Root, "work");
    public Dictionary<string, string> Env { get; } = new();
    public string Bucket { get; }

    public Binary(bool useServer = true)
    {
        Directory.CreateDirectory(Home);
        Directory.CreateDirectory(Work);
        Env["HOME"] = Home;
        Env["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        Env["TMPDIR"] = System.IO.Path.GetTempPath();
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { } dh) Env["DOCKER_HOST"] = dh;
        if (Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is { } dv) Env["DOCKER_API_VERSION"] = dv;
        if (Environment.GetEnvironmentVariable("S3POD_FS") is { } fs) Env["S3POD_FS"] = fs;
        if (Wine)
        {
            // Wine needs its prefix (made once; a fresh one per process would take ~20 s) and stays quiet.
            foreach (var name in new[] { "WINEPREFIX", "WINEARCH", "WINEDLLOVERRIDES" })
                if (Environment.GetEnvironmentVariable(name) is { } v) Env[name] = v;
            Env["WINEDEBUG"] = Environment.GetEnvironmentVariable("WINEDEBUG") ?? "-all";
            // Wine maps Linux file names to UTF-16 through the locale's charset: without a UTF-8 locale
            // "ünïcödé" reaches the binary as mojibake.
            Env["LC_ALL"] = "C.UTF-8";
            // Wine drops HOME and sets %USERPROFILE%, %APPDATA% and %LOCALAPPDATA% from its prefix, which
            // every test shares: name this test's config and local cache where the Linux build puts them.
            Env["S3POD_CONFIG"] = System.IO.Path.Combine(Home, ".config", "s3pod", "config.toml");
            Env["S3POD_CACHE_DIR"] = System.IO.Path.Combine(Home, ".cache", "s3pod");
        }
        Bucket = $"s3pod-nt-{Guid.NewGuid():N}"[..36];
        if (useServer && !string.IsNullOrEmpty(Endpoint))
        {
            Env["S3POD_ENDPOINT"] = Endpoint;
            Env["S3POD_REGION"] = Region;
            Env["S3POD_BUCKET"] = Bucket;
            Env["S3POD_S3_KEY_ID"] = KeyId;
            Env["S3POD_S3_SECRET"] = Secret;
        }
    }

    public Run Exec(params string[] args) => ExecIn(Work, null, args);

    public Run ExecIn(string cwd, byte[]? stdin, params string[] args)
    {
        var psi = StartInfo();
        psi.WorkingDirectory = cwd;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = stdin is not null;
        psi.UseShellExecute = false;
        psi.Environment.Clear();
        foreach (var (k, v) in Env) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (stdin is not null) { p.StandardInput.BaseStream.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException($"s3pod {string.Join(' ', args)} timed out"); }
        return new Run(p.ExitCode, Linux(output.Result), Linux(err.Result));
    }

    // Z:\dev\shm\x, raw or JSON-escaped, up to a quote, space or end of line.
    private static readonly System.Text.RegularExpressions.Regex WinePath = new(@"Z:(?:\\\\|\\)[^\s""'<>|]*");

    /// <summary>
    /// Under Wine, the paths the binary prints (Z:\dev\shm\…, the Linux root as drive Z:) as the Linux
    /// paths the tests compare with and open, in plain text and in JSON strings; the text as is otherwise.
    /// What a path looks like on Windows is checked by the Windows cases, with <see cref="WinPath"/>.
    /// </summary>
    public static string Linux(string text) => !Wine ? text : WinePath.Replace(text, m =>
    {
        var json = m.Value.StartsWith(@"Z:\\", StringComparison.Ordinal);
        return m.Value[2..].Replace(json ? @"\\" : @"\", "/");
    });

    public Process Start(params string[] args)
    {
        var psi = StartInfo();
        psi.WorkingDirectory = Work;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        psi.Environment.Clear();
        foreach (var (k, v) in Env) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>Runs a shell pipeline with the interop peers (AWS CLI v2, zstd, tar) configured for the same server.</summary>
    public Run Shell(string script, string? cwd = null)
    {
        var psi = new ProcessStartInfo("bash", ["-c", "set -euo pipefail; " + script]) { WorkingDirectory = cwd ?? Work, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["AWS_ACCESS_KEY_ID"] = KeyId;
        psi.Environment["AWS_SECRET_ACCESS_KEY"] = Secret;
        psi.Environment["AWS_DEFAULT_REGION"] = Region;
        psi.Environment["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required";
        psi.Environment["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required";
        psi.Environment["AWS_PAGER"] = "";
        psi.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        psi.Environment["EP"] = Endpoint ?? "";
        psi.Environment["BUCKET"] = Bucket;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        p.WaitForExit();
        return new Run(p.ExitCode, output.Result, err.Result);
    }

    /// <summary>Debian's AWS CLI v2, by full path (a pip-installed v1 may come first on PATH).</summary>
    public const string Aws = "/usr/bin/aws --endpoint-url \"$EP\"";

    public void CreateBucket()
    {
        var r = Exec("init", "--create-bucket", "--force");
        Assert.True(r.Code == 0, r.All);
    }

    public string WriteFile(string rel, string text) => WriteFile(rel, Encoding.UTF8.GetBytes(text));

    public string WriteFile(string rel, byte[] data)
    {
        var p = System.IO.Path.Combine(Work, rel);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(p)!);
        File.WriteAllBytes(p, data);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, true); } catch { /* best effort */ }
    }
}
