using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace S3Pod.Archive;

/// <summary>
/// The few libc calls the BCL does not expose: inode identity and link count (hard-link detection),
/// link(2) (TarEntry cannot extract hard links), rename(2) on directories over nothing, and setting
/// timestamps on symlinks themselves. statx(2) is used rather than lstat(2) because struct statx has
/// the same layout on every architecture (struct stat does not, and lstat only became a real glibc
/// symbol in 2.33); statx exists since glibc 2.28 / Linux 4.11.
/// </summary>
internal static partial class Posix
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int EXDEV = 18;

    // S_IFMT values from <sys/stat.h>.
    public const int TypeMask = 0xF000;
    public const int TypeSocket = 0xC000;
    public const int TypeSymlink = 0xA000;
    public const int TypeRegular = 0x8000;
    public const int TypeBlock = 0x6000;
    public const int TypeDirectory = 0x4000;
    public const int TypeChar = 0x2000;
    public const int TypeFifo = 0x1000;

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

    /// <summary>What lstat says about one path; <see cref="Type"/> is one of the Type* constants.</summary>
    public readonly record struct Stat(int Mode, long Size, long MtimeSec, uint MtimeNsec, uint Nlink, uint Uid, uint Gid, ulong Dev, ulong Ino)
    {
        public int Type => Mode & TypeMask;
        public int Permissions => Mode & 0xFFF;
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

    /// <summary>lstat: returns false when the path does not exist (ENOENT/ENOTDIR); throws on other errors.</summary>
    public static bool TryLstat(string path, out Stat stat)
    {
        if (SysStatx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, out var b) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            stat = default;
            if (errno == ENOENT || errno == 20 /* ENOTDIR */) return false;
            throw Error(errno, path);
        }
        stat = new Stat(b.Mode, (long)b.Size, b.MtimeSec, b.MtimeNsec, b.Nlink, b.Uid, b.Gid,
            ((ulong)b.DevMajor << 32) | b.DevMinor, b.Ino);
        return true;
    }

    /// <summary>link(2); returns the errno (0 on success) so callers can handle EXDEV.</summary>
    public static int Link(string existing, string newPath) =>
        SysLink(existing, newPath) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public static void Rename(string from, string to)
    {
        if (SysRename(from, to) != 0) throw Error(Marshal.GetLastPInvokeError(), to);
    }

    /// <summary>Sets mtime (atime left alone) on a path without following a final symlink.</summary>
    public static void SetMtimeNoFollow(string path, long sec, long nsec)
    {
        var t = Times(sec, nsec);
        if (SysUtimensat(AtFdCwd, path, in t, AtSymlinkNoFollow) != 0) throw Error(Marshal.GetLastPInvokeError(), path);
    }

    public static void SetMtime(SafeFileHandle fd, long sec, long nsec, string pathForErrors)
    {
        var t = Times(sec, nsec);
        if (SysFutimens(fd, in t) != 0) throw Error(Marshal.GetLastPInvokeError(), pathForErrors);
    }

    /// <summary>fchmod is not subject to the umask, which is the point: modes are restored exactly.</summary>
    public static void Chmod(SafeFileHandle fd, int mode, string pathForErrors)
    {
        if (SysFchmod(fd, (uint)mode) != 0) throw Error(Marshal.GetLastPInvokeError(), pathForErrors);
    }

    public static void Chmod(string path, int mode)
    {
        if (SysChmod(path, (uint)mode) != 0) throw Error(Marshal.GetLastPInvokeError(), path);
    }

    private static TwoTimespecs Times(long sec, long nsec) => new()
    {
        Atime = new Timespec { Sec = 0, Nsec = (nint)UtimeOmit },
        Mtime = new Timespec { Sec = (nint)sec, Nsec = (nint)nsec },
    };

    /// <summary>An IOException carrying errno's text, naming the path (callers turn it into a user error).</summary>
    public static IOException Error(int errno, string path) =>
        new PosixIOException(errno, $"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
}

/// <summary>An IOException that remembers errno, so EXDEV/EEXIST can be told apart without parsing text.</summary>
internal sealed class PosixIOException(int errno, string message) : IOException(message)
{
    public int Errno { get; } = errno;
}
