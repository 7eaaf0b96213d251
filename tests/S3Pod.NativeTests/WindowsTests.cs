using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace S3Pod.NativeTests;

/// <summary>
/// What the Windows build must do, run for real: the win-x64 build under Wine (the Wine pass of
/// tests/run-all.sh, S3POD_TEST_BINARY_LAUNCHER=wine). Wine maps the Linux root to drive Z:, applies
/// Windows' name rules (CON.txt is the console there) and its own %LOCALAPPDATA%. The cases that mean
/// something on every OS (a relative path restored in another workspace, CRLF files) run in every pass.
/// </summary>
public sealed class WindowsTests
{
    private static void SkipUnlessWine() =>
        Skip.IfNot(Binary.Wine, "Windows behaviour: runs in the Wine pass only (tests/run-all.sh runs it unless S3POD_WINE=0)");

    /// <summary>A job whose store is the local store at <paramref name="store"/>, or the test server's bucket.</summary>
    private static Binary Job(string store, string? bucket)
    {
        var b = new Binary(useServer: bucket is not null);
        if (bucket is null) b.Env["S3POD_STORE"] = store;
        else b.Env["S3POD_BUCKET"] = bucket;
        return b;
    }

    private static string Store() => Directory.CreateTempSubdirectory("s3pod-native-store-").FullName;

    private static void Ok(Run r) => Assert.True(r.Code == 0, r.All);

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARelativePath_SavedInOneWorkspace_RestoresInAnother(bool s3)
    {
        // Windows used to record `--path d` as r/Z:\...\work\d, an absolute path: another workspace
        // refused it (exit 5), so no cache round trip through the action worked on Windows.
        Binary.SkipIfAbsent(needsServer: s3);
        var store = Store();
        try
        {
            string? bucket = null;
            if (s3) { using var setup = new Binary(); setup.CreateBucket(); bucket = setup.Bucket; }
            using var save = Job(store, bucket);
            save.WriteFile("d/a.txt", "a");
            save.WriteFile("d/sub/b.txt", "b");
            Ok(save.Exec("save", "--key", "k", "--path", "d"));
            using var restore = Job(store, bucket);
            Ok(restore.Exec("restore", "--key", "k", "--path", "d", "--fail-on-miss"));
            Assert.Equal("a", File.ReadAllText(Path.Combine(restore.Work, "d/a.txt")));
            Assert.Equal("b", File.ReadAllText(Path.Combine(restore.Work, "d/sub/b.txt")));
        }
        finally { Directory.Delete(store, true); }
    }

    [SkippableFact]
    public void WindowsSpellings_OfOnePath_AreOneCacheEntry()
    {
        Binary.SkipIfAbsent(needsServer: false);
        SkipUnlessWine();
        var store = Store();
        var outside = Directory.CreateTempSubdirectory("s3pod-native-outside-").FullName;
        try
        {
            using var save = Job(store, null);
            save.WriteFile("sub/dir/x.txt", "x");
            File.WriteAllText(Path.Combine(outside, "o.txt"), "o");
            // Backslashes and a drive letter on save; forward slashes on restore (as a workflow shared with Linux writes them).
            Ok(save.Exec("save", "--key", "k", "--path", @"sub\dir", "--path", Binary.WinPath(outside)));
            Directory.Delete(outside, true);
            using var restore = Job(store, null);
            Ok(restore.Exec("restore", "--key", "k", "--path", "sub/dir", "--path", Binary.WinPath(outside).Replace('\\', '/'), "--fail-on-miss"));
            Assert.Equal("x", File.ReadAllText(Path.Combine(restore.Work, "sub/dir/x.txt")));
            Assert.Equal("o", File.ReadAllText(Path.Combine(outside, "o.txt")));
        }
        finally
        {
            Directory.Delete(store, true);
            if (Directory.Exists(outside)) Directory.Delete(outside, true);
        }
    }

    [SkippableFact]
    public void LongPaths_UnicodeNames_HardLinks_AndReadOnlyFiles_RoundTrip()
    {
        Binary.SkipIfAbsent(needsServer: false);
        SkipUnlessWine();
        var store = Store();
        try
        {
            using var save = Job(store, null);
            var deep = string.Join('/', Enumerable.Repeat("a-directory-name-thirty-chars-", 10)) + "/leaf.txt";
            var leaf = save.WriteFile("tree/" + deep, "deep");
            Assert.True(Binary.WinPath(leaf).Length > 300);
            save.WriteFile("tree/ünïcödé name.txt", "u");
            save.WriteFile("tree/日本語/😀.txt", "e");
            var a = save.WriteFile("tree/a.txt", "linked");
            Assert.Equal(0, save.Shell($"ln '{a}' tree/hard.txt").Code);
            var ro = save.WriteFile("tree/ro.txt", "read-only");
            File.SetUnixFileMode(ro, UnixFileMode.UserRead | UnixFileMode.GroupRead);
            Ok(save.Exec("save", "--key", "k", "--path", "tree"));
            Ok(save.Exec("dir", "upload", "tree.tzst", "tree"));

            using var restore = Job(store, null);
            // A read-only file already where the restore writes: Windows refuses to delete or replace
            // one until its read-only attribute is cleared.
            File.SetUnixFileMode(restore.WriteFile("tree/ro.txt", "stale"), UnixFileMode.UserRead);
            Ok(restore.Exec("restore", "--key", "k", "--path", "tree", "--fail-on-miss"));
            Ok(restore.Exec("dir", "download", "tree.tzst", "again"));
            foreach (var top in new[] { "tree", "again" })
            {
                var root = Path.Combine(restore.Work, top);
                Assert.Equal("deep", File.ReadAllText(Path.Combine(root, deep)));
                Assert.Equal("u", File.ReadAllText(Path.Combine(root, "ünïcödé name.txt")));
                Assert.Equal("e", File.ReadAllText(Path.Combine(root, "日本語/😀.txt")));
                Assert.Equal("read-only", File.ReadAllText(Path.Combine(root, "ro.txt")));
                var inodes = restore.Shell($"stat -c %i '{root}/a.txt' '{root}/hard.txt'").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.True(inodes.Length == 2 && inodes[0] == inodes[1], $"hard link not kept in {top}: {string.Join(',', inodes)}");
            }
        }
        finally { Directory.Delete(store, true); }
    }

    [SkippableTheory]
    [InlineData("CON.txt", "'CON' is a reserved device name")]
    [InlineData("aux", "'aux' is a reserved device name")]
    [InlineData("trailing.", "trailing dot")]
    public void AReservedName_InTheSource_IsAnErrorNamingTheFile(string name, string why)
    {
        // Was: "internal error: IOException: Invalid name. : '\\.\CON'" (not naming the file).
        Binary.SkipIfAbsent(needsServer: false);
        SkipUnlessWine();
        var store = Store();
        try
        {
            using var b = Job(store, null);
            b.WriteFile("src/fine.txt", "fine");
            b.WriteFile("src/" + name, "x");
            foreach (var args in new[] { new[] { "save", "--key", "k", "--path", "src" }, ["dir", "upload", "k.tzst", "src"] })
            {
                var r = b.Exec(args);
                Assert.True(r.Code == 2, r.All);
                Assert.Contains(Path.Combine(b.Work, "src", name), r.Err); // Z:\... as the binary printed it, see Binary.Linux
                Assert.Contains(why, r.Err);
                Assert.DoesNotContain("internal error", r.Err);
            }
            // Left out by an exclusion, the rest is cached.
            Ok(b.Exec("save", "--key", "k", "--path", "src", "--path", "!src/" + name));
        }
        finally { Directory.Delete(store, true); }
    }

    [SkippableTheory]
    [InlineData("download", "k", "CON.txt")]
    [InlineData("download", "k", "out/nul.bin")]
    [InlineData("upload", "k2", "AUX")]
    [InlineData("dir download", "d", "lpt1")]
    public void AReservedName_AsACommandLinePath_IsAnErrorSayingSo(string command, string key, string path)
    {
        // Was: "internal error: ArgumentNullException" for download, .NET's "Invalid name" for dir download.
        Binary.SkipIfAbsent(needsServer: false);
        SkipUnlessWine();
        var store = Store();
        try
        {
            using var b = Job(store, null);
            b.WriteFile("f.txt", "f");
            Ok(b.Exec("upload", "k", "f.txt"));
            Ok(b.Exec("dir", "upload", "d", "."));
            var r = b.Exec([.. command.Split(' '), key, path]);
            Assert.True(r.Code == 2, r.All);
            Assert.Contains($"'{path}' names the Windows device", r.Err);
            Assert.DoesNotContain("internal error", r.Err);
        }
        finally { Directory.Delete(store, true); }
    }

    [SkippableTheory]
    [InlineData("CON.txt")]
    [InlineData("sub/nul")]
    [InlineData("LPT1.tar.gz")]
    public void AReservedName_InAnArchive_IsRefused(string name)
    {
        Binary.SkipIfAbsent(needsServer: false);
        SkipUnlessWine();
        var store = Store();
        try
        {
            using var b = Job(store, null);
            var py = "import tarfile, io\nt = tarfile.open('evil.tar', 'w', format=tarfile.PAX_FORMAT)\n" +
                     "for n in ['ok.txt', '" + name + "']:\n  i = tarfile.TarInfo(n); i.size = 2; t.addfile(i, io.BytesIO(b'hi'))\nt.close()\n";
            File.WriteAllText(Path.Combine(b.Work, "evil.py"), py);
            Assert.Equal(0, b.Shell("python3 evil.py && zstd -q evil.tar -o evil.tzst").Code);
            Ok(b.Exec("upload", "evil.tzst", "evil.tzst"));
            var r = b.Exec("dir", "download", "evil.tzst", "out");
            Assert.True(r.Code == 5, r.All);
            Assert.Contains("reserved device name", r.Err);
            Assert.False(Directory.Exists(Path.Combine(b.Work, "out")) && Directory.EnumerateFileSystemEntries(Path.Combine(b.Work, "out")).Any());
        }
        finally { Directory.Delete(store, true); }
    }

    [SkippableFact]
    public void DefaultDirectories_AreUnderAppDataAndLocalAppData()
    {
        Binary.SkipIfAbsent();
        SkipUnlessWine();
        using var b = new Binary();
        b.CreateBucket();
        b.WriteFile("o.bin", "object");
        Ok(b.Exec("upload", "o.bin", "o.bin"));
        // Wine's %USERPROFILE% is C:\users\<the Linux user> in its prefix, shared by the tests: only this test uses the defaults.
        b.Env.Remove("S3POD_CONFIG");
        b.Env.Remove("S3POD_CACHE_DIR");
        var profile = $@"C:\users\{Environment.UserName}";
        var fetch = b.Exec("asset", "fetch", $"s3://{b.Bucket}/o.bin", "--json");
        Ok(fetch);
        var path = JsonDocument.Parse(fetch.Out).RootElement.GetProperty("path").GetString()!;
        Assert.StartsWith($@"{profile}\AppData\Local\s3pod\objects\{b.Bucket}\", path);
        var prefix = Environment.GetEnvironmentVariable("WINEPREFIX") ?? Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".wine");
        var local = Path.Combine(prefix, "drive_c", "users", Environment.UserName, "AppData", "Local", "s3pod");
        try
        {
            Assert.Equal("object", File.ReadAllText(Path.Combine(prefix, "drive_c", path[3..].Replace('\\', '/'))));
            var init = b.Exec("init", "--json");
            Ok(init);
            Assert.Equal($@"{profile}\AppData\Roaming\s3pod\config.toml", JsonDocument.Parse(init.Out).RootElement.GetProperty("configFile").GetString());
        }
        finally
        {
            Directory.Delete(local, true);
            File.Delete(Path.Combine(prefix, "drive_c", "users", Environment.UserName, "AppData", "Roaming", "s3pod", "config.toml"));
        }
    }

    [SkippableFact]
    public void CrlfConfigFile_AndCrlfAssetManifest_AreRead()
    {
        // What a Windows checkout with core.autocrlf gives.
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        var store = Path.Combine(b.Root, "store");
        var config = Path.Combine(b.Home, "config.toml");
        File.WriteAllText(config, $"# s3pod\r\nstore = \"{store}\"\r\nretries = 2\r\n");
        b.Env["S3POD_CONFIG"] = config;
        b.WriteFile("f.txt", "f");
        Ok(b.Exec("upload", "f.txt", "f.txt"));
        Ok(b.Exec("exists", "f.txt"));
        Assert.True(Directory.Exists(store), "the store the CRLF config names was not used");

        b.WriteFile("s3pod.assets.json", "{\r\n    \"assets\": {\r\n        \"/data/local.txt\": \"./local.txt\"\r\n    }\r\n}\r\n");
        b.WriteFile("local.txt", "local\r\n");
        var path = b.Exec("asset", "path", "/data/local.txt");
        Ok(path);
        Assert.EndsWith("local.txt", path.Out.Trim());
    }

    /// <summary>The host's own build (dist/s3pod-linux-x64), given to the Wine pass for the cross-OS cases.</summary>
    private static string? LinuxBinary => Environment.GetEnvironmentVariable("S3POD_TEST_LINUX_BINARY");

    private static Run RunLinux(Binary b, params string[] args)
    {
        var psi = new ProcessStartInfo(LinuxBinary!) { WorkingDirectory = b.Work, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment.Clear();
        foreach (var (k, v) in b.Env) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException("s3pod (linux) timed out"); }
        return new Run(p.ExitCode, output.Result, err.Result);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnEntrySavedOnLinux_RestoresOnWindows_AndTheReverse(bool s3)
    {
        Binary.SkipIfAbsent(needsServer: s3);
        SkipUnlessWine();
        Skip.If(string.IsNullOrEmpty(LinuxBinary) || !File.Exists(LinuxBinary), "no Linux build: S3POD_TEST_LINUX_BINARY is not set (run-all.sh sets it in the Wine pass)");
        var store = Store();
        try
        {
            string? bucket = null;
            if (s3) { using var setup = new Binary(); setup.CreateBucket(); bucket = setup.Bucket; }
            foreach (var linuxSaves in new[] { true, false })
            {
                var key = linuxSaves ? "from-linux" : "from-windows";
                using var save = Job(store, bucket);
                save.WriteFile("node_modules/x/index.js", key);
                save.WriteFile("build/out/app.bin", "bin");
                // The same workspace paths, spelled as each OS's workflow would.
                var saved = linuxSaves
                    ? RunLinux(save, "save", "--key", key, "--path", "node_modules", "--path", "build/out")
                    : save.Exec("save", "--key", key, "--path", "node_modules", "--path", @"build\out");
                Ok(saved);
                using var restore = Job(store, bucket);
                var restored = linuxSaves
                    ? restore.Exec("restore", "--key", key, "--path", "node_modules", "--path", @"build\out", "--fail-on-miss")
                    : RunLinux(restore, "restore", "--key", key, "--path", "node_modules", "--path", "build/out", "--fail-on-miss");
                Ok(restored);
                Assert.Equal(key, File.ReadAllText(Path.Combine(restore.Work, "node_modules/x/index.js")));
                Assert.Equal("bin", File.ReadAllText(Path.Combine(restore.Work, "build/out/app.bin")));
            }
        }
        finally { Directory.Delete(store, true); }
    }
}
