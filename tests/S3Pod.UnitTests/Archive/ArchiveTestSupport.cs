using Xunit;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using S3Pod.Archive;

namespace S3Pod.UnitTests.Archive;

/// <summary>
/// A scratch directory under /dev/shm (tmpfs: the root ext4 here has no journal and creates files
/// slowly), removed on dispose.
/// </summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; }

    public TempDir()
    {
        string root = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Join(root, "s3pod-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Sub(string rel) => System.IO.Path.Join(Path, rel);

    public void Dispose()
    {
        // Read-only directories from the tests must be made writable before they can be removed.
        foreach (var d in Directory.EnumerateDirectories(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (!ArchiveTestSupport.Native.TryGetInfo(d, out var st) || st.Kind != EntryKind.Directory) continue;
            try { ArchiveTestSupport.Native.SetPermissions(d, 0x1FF); } catch (Exception) { }
        }
        try { Directory.Delete(Path, recursive: true); } catch (Exception) { }
    }
}

internal static class ArchiveTestSupport
{
    /// <summary>The ground truth the tests set up and inspect trees with, whatever implementation is under test.</summary>
    public static readonly IFileSystem Native = OperatingSystem.IsLinux() ? LinuxFileSystem.Instance : PortableFileSystem.ForThisOs();

    /// <summary>The implementations every archive test runs against, by the name S3POD_FS gives them
    /// (off Linux only the portable one exists).</summary>
    public static TheoryData<string> FileSystemNames() => OperatingSystem.IsLinux() ? new("linux", "portable") : new("portable");

    public static IFileSystem Fs(string name) => name switch
    {
        "linux" when OperatingSystem.IsLinux() => LinuxFileSystem.Instance,
        "portable" => PortableFileSystem.ForThisOs(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>What the binary would pick here (S3POD_FS honoured): for tests that are not about the file system.</summary>
    public static IFileSystem Default => FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS"));

    /// <summary>
    /// Everything restoration must keep, per relative path: type, mode, size, link target, mtime, content
    /// hash, and which paths share an inode (hard links), as comparable text lines.
    /// </summary>
    public static SortedDictionary<string, string> Snapshot(string root, bool mtimeSecondsOnly = false, bool includeRoot = false, bool symlinkMtimes = true)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var inodes = new Dictionary<ulong, string>();
        void Visit(string dir, string prefix)
        {
            foreach (var full in Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { AttributesToSkip = 0 }).Order(StringComparer.Ordinal))
            {
                string name = System.IO.Path.GetFileName(full);
                string rel = prefix.Length == 0 ? name : prefix + "/" + name;
                Assert.True(Native.TryGetInfo(full, out var st));
                string mtime = mtimeSecondsOnly ? $"{st.MtimeSec}" : $"{st.MtimeSec}.{st.MtimeNsec / 100:D7}";
                string line = st.Kind switch
                {
                    EntryKind.Directory => $"dir mode={Oct(st.Permissions)} mtime={mtime}",
                    EntryKind.Symlink => $"symlink -> {new FileInfo(full).LinkTarget}" + (symlinkMtimes ? $" mtime={mtime}" : ""),
                    EntryKind.Regular => $"file mode={Oct(st.Permissions)} size={st.Size} mtime={mtime} sha={Hash(full)}",
                    _ => "other",
                };
                if (st.Kind == EntryKind.Regular && st.LinkCount > 1)
                {
                    if (inodes.TryGetValue(st.Identity.Inode, out var first)) line += $" link-of={first}";
                    else inodes[st.Identity.Inode] = rel;
                }
                result[rel] = line;
                if (st.Kind == EntryKind.Directory) Visit(full, rel);
            }
        }
        if (includeRoot)
        {
            Assert.True(Native.TryGetInfo(root, out var rs));
            result["."] = $"dir mode={Oct(rs.Permissions)} mtime={(mtimeSecondsOnly ? $"{rs.MtimeSec}" : $"{rs.MtimeSec}.{rs.MtimeNsec / 100:D7}")}";
        }
        Visit(root, "");
        return result;
    }

    private static string Oct(int mode) => Convert.ToString(mode, 8);

    public static string Describe(SortedDictionary<string, string> snap) =>
        string.Join("\n", snap.Select(kv => $"{kv.Key}: {kv.Value}"));

    public static void AssertSameTree(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual) =>
        Assert.Equal(Describe(expected), Describe(actual));

    private static string Hash(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f))[..16];
    }

    public static void SetMtime(string path, long sec, long nsec = 0) =>
        Native.SetModificationTime(path, Native.TryGetInfo(path, out var st) ? st.Kind : EntryKind.Regular, sec, nsec);

    public static void WriteFile(string path, string text, int mode = 0x1A4 /*0644*/, long mtime = 1_600_000_000, long nsec = 0)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        Native.SetPermissions(path, mode);
        SetMtime(path, mtime, nsec);
    }

    /// <summary>
    /// A tree with everything the archive must keep: sizes from empty to multi-MiB, empty and nested
    /// directories, odd modes (sticky, read-only, setuid), relative/absolute/dangling symlinks, a
    /// 3-name hard link, a path over 400 characters, non-ASCII names and sub-second mtimes.
    /// </summary>
    public static void MakeRichTree(string root)
    {
        WriteFile(System.IO.Path.Join(root, "empty.txt"), "", mtime: 1_000_000_000);
        WriteFile(System.IO.Path.Join(root, "hello.txt"), "hello\n", mtime: 1_600_000_000, nsec: 123_456_700);
        WriteFile(System.IO.Path.Join(root, "ro.txt"), "read only", mode: 0x124 /*0444*/);
        WriteFile(System.IO.Path.Join(root, "secret.txt"), "private", mode: 0x180 /*0600*/);
        WriteFile(System.IO.Path.Join(root, "bin/tool.sh"), "#!/bin/sh\necho hi\n", mode: 0x1ED /*0755*/);
        WriteFile(System.IO.Path.Join(root, "bin/suid"), "suid", mode: 0x9ED /*04755*/);
        var big = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(big.AsSpan(0, big.Length / 2)); // half random, half zeros
        File.WriteAllBytes(System.IO.Path.Join(root, "big.bin"), big);
        SetMtime(System.IO.Path.Join(root, "big.bin"), 1_500_000_000, 999_999_900);
        Directory.CreateDirectory(System.IO.Path.Join(root, "empty-dir"));
        Directory.CreateDirectory(System.IO.Path.Join(root, "sticky"));
        Native.SetPermissions(System.IO.Path.Join(root, "sticky"), 0x3FF /*01777*/);
        WriteFile(System.IO.Path.Join(root, "nested/a/b/c/deep.txt"), "deep");
        WriteFile(System.IO.Path.Join(root, "ünïcødé 日本語/файл с пробелами.txt"), "unicode ✓");
        string longDir = string.Join("/", Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), 100)));
        WriteFile(System.IO.Path.Join(root, "long", longDir, new string('z', 200) + ".txt"), "long path");
        WriteFile(System.IO.Path.Join(root, "links/original.txt"), "linked content");
        File.CreateSymbolicLink(System.IO.Path.Join(root, "links/rel-link"), "original.txt");
        File.CreateSymbolicLink(System.IO.Path.Join(root, "links/abs-link"), "/usr/share/doc");
        File.CreateSymbolicLink(System.IO.Path.Join(root, "links/dangling"), "../no/such/file");
        File.CreateSymbolicLink(System.IO.Path.Join(root, "links/dir-link"), "../nested");
        File.CreateSymbolicLink(System.IO.Path.Join(root, "links/long-target"), new string('x', 600));
        Assert.True(Native.TryCreateHardLink(System.IO.Path.Join(root, "links/original.txt"), System.IO.Path.Join(root, "links/hard1.txt")));
        Assert.True(Native.TryCreateHardLink(System.IO.Path.Join(root, "links/original.txt"), System.IO.Path.Join(root, "nested/hard2.txt")));
        // Directory mtimes last: creating entries changes them.
        SetMtime(System.IO.Path.Join(root, "nested/a/b/c"), 1_234_567_890);
        SetMtime(System.IO.Path.Join(root, "nested"), 1_234_567_891, 500_000_000);
        SetMtime(System.IO.Path.Join(root, "empty-dir"), 1_111_111_111);
        Native.SetPermissions(System.IO.Path.Join(root, "nested/a/b"), 0x16D /*0555*/);
    }

    public static async Task<byte[]> PackToBytesAsync(string dir, int level = 3, IFileSystem? fs = null)
    {
        var ms = new MemoryStream();
        await TarZstd.PackDirectoryAsync(fs ?? Default, dir, ms, level, CancellationToken.None);
        return ms.ToArray();
    }

    /// <summary>Runs a shell pipeline (tar and zstd are the real GNU/Debian binaries); fails the test on a non-zero exit.</summary>
    public static string Sh(string script, byte[]? stdin = null)
    {
        var psi = new ProcessStartInfo("/bin/bash", ["-o", "pipefail", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"`{script}` exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    public static bool HaveTools() => File.Exists("/usr/bin/zstd") && File.Exists("/usr/bin/tar");

    /// <summary>zstd-compresses bytes (with a checksum), as `zstd` would, via the same library.</summary>
    public static byte[] Zstd(byte[] data)
    {
        var ms = new MemoryStream();
        using (var c = new ZstdSharp.CompressionStream(ms, 3, 0, leaveOpen: true))
        {
            c.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
            c.Write(data);
        }
        return ms.ToArray();
    }

    public static string Utf8(byte[] b) => Encoding.UTF8.GetString(b);
}
