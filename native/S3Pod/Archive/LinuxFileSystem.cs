using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace S3Pod.Archive;

/// <summary>
/// The Linux fast path: one statx(2) per entry gives everything (type, mode, owner, times, link
/// count, inode), and the libc calls the BCL does not expose do the rest: link(2) (TarEntry cannot
/// extract hard links), rename(2) of directories, timestamps on symlinks themselves. statx rather
/// than lstat because struct statx has the same layout on every architecture (struct stat does not,
/// and lstat only became a real glibc symbol in 2.33); statx exists since glibc 2.28 / Linux 4.11.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed partial class LinuxFileSystem : IFileSystem
{
    public static readonly LinuxFileSystem Instance = new();

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ENOENT = 2, ENOTDIR = 20, EXDEV = 18;

    private LinuxFileSystem() { }

    public string Name => "linux";

    /// <summary>struct statx, the kernel ABI (include/uapi/linux/stat.h); identical on x64 and arm64.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuf
    {
        [FieldOffset(16)] public uint Nlink;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public uint Gid;
        [FieldOffset(28)] public ushort Mode;
        [FieldOffset(32)] public ulong Ino;
        [FieldOffset(40)] public ulong Size;
        [FieldOffset(112)] public long MtimeSec;
        [FieldOffset(120)] public uint MtimeNsec;
        [FieldOffset(136)] public uint DevMajor;
        [FieldOffset(140)] public uint DevMinor;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Sec;
        public nint Nsec;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TwoTimespecs
    {
        public Timespec Atime;
        public Timespec Mtime;
    }

    private const long UtimeOmit = (1L << 30) - 2;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysStatx(int dirfd, string path, int flags, uint mask, out StatxBuf buf);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysLink(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysRename(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysUtimensat(int dirfd, string path, in TwoTimespecs times, int flags);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int SysFutimens(SafeFileHandle fd, in TwoTimespecs times);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int SysFchmod(SafeFileHandle fd, uint mode);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysChmod(string path, uint mode);

    public bool TryGetInfo(string path, out FileEntryInfo info)
    {
        if (SysStatx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, out var b) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            info = default;
            if (errno is ENOENT or ENOTDIR) return false;
            throw UnixStat.Error(errno, path);
        }
        info = new FileEntryInfo(UnixStat.KindOf(b.Mode), b.Mode & 0xFFF, (long)b.Size, b.MtimeSec, b.MtimeNsec, b.Nlink, b.Uid, b.Gid,
            new FileIdentity(((ulong)b.DevMajor << 32) | b.DevMinor, b.Ino));
        return true;
    }

    // readlink(2) through the BCL: the target text verbatim, never resolved.
    public string ReadLink(string path) =>
        new FileInfo(path).LinkTarget ?? throw new IOException($"{path}: not a symlink any more");

    public void CreateSymbolicLink(string path, string target) => File.CreateSymbolicLink(path, target);

    public bool TryCreateHardLink(string existing, string newPath)
    {
        if (SysLink(existing, newPath) == 0) return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == EXDEV) return false;
        throw UnixStat.Error(errno, newPath);
    }

    // fchmod/chmod are not subject to the umask, which is the point: modes are restored exactly.
    public void SetPermissions(SafeFileHandle file, int mode, string pathForErrors)
    {
        if (SysFchmod(file, (uint)mode) != 0) throw UnixStat.Error(Marshal.GetLastPInvokeError(), pathForErrors);
    }

    public void SetPermissions(string path, int mode)
    {
        if (SysChmod(path, (uint)mode) != 0) throw UnixStat.Error(Marshal.GetLastPInvokeError(), path);
    }

    public void SetModificationTime(SafeFileHandle file, long sec, long nsec, string pathForErrors)
    {
        var t = Times(sec, nsec);
        if (SysFutimens(file, in t) != 0) throw UnixStat.Error(Marshal.GetLastPInvokeError(), pathForErrors);
    }

    public void SetModificationTime(string path, EntryKind kind, long sec, long nsec)
    {
        var t = Times(sec, nsec);
        if (SysUtimensat(AtFdCwd, path, in t, AtSymlinkNoFollow) != 0) throw UnixStat.Error(Marshal.GetLastPInvokeError(), path);
    }

    public void MoveToNew(string from, string to)
    {
        if (SysRename(from, to) != 0) throw UnixStat.Error(Marshal.GetLastPInvokeError(), to);
    }

    public string? RefuseName(string relativeName) => null;

    public bool IsCaseInsensitive(string directory) => FileNameRules.ProbeCaseInsensitive(this, directory);

    private static TwoTimespecs Times(long sec, long nsec) => new()
    {
        Atime = new Timespec { Sec = 0, Nsec = (nint)UtimeOmit },
        Mtime = new Timespec { Sec = (nint)sec, Nsec = (nint)nsec },
    };
}

/// <summary>What every Unix shares: the S_IFMT type bits and errno-based errors.</summary>
internal static class UnixStat
{
    private const int TypeMask = 0xF000, TypeSymlink = 0xA000, TypeRegular = 0x8000, TypeDirectory = 0x4000;

    /// <summary>The S_IFMT bits of a mode as an <see cref="EntryKind"/>.</summary>
    public static EntryKind KindOf(int mode) => (mode & TypeMask) switch
    {
        TypeRegular => EntryKind.Regular,
        TypeDirectory => EntryKind.Directory,
        TypeSymlink => EntryKind.Symlink,
        _ => EntryKind.Other,
    };

    /// <summary>An IOException carrying errno's text, naming the path.</summary>
    public static IOException Error(int errno, string path) =>
        new($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
}
