using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace S3Pod.Archive;

/// <summary>
/// The file-system layer for every OS: .NET's own file APIs for types, modes, times, sizes, link
/// targets and moves, plus the few facts .NET does not expose, asked natively per OS (link count,
/// file identity, owner, and on Unix whether a "file" is really a FIFO, socket or device):
/// statx on Linux, lstat/linkat/renamex_np from libSystem on macOS, GetFileInformationByHandle and
/// CreateHardLinkW on Windows. Every native call sits behind an OperatingSystem check.
/// On Linux it only runs when S3POD_FS=portable asks for it: that is how the suite tests it here.
/// </summary>
internal sealed partial class PortableFileSystem : IFileSystem
{
    // Made-up modes where the OS has none (Windows): what a checkout of the same files would get.
    private const int WindowsDirectoryMode = 0x1ED /*0755*/, WindowsFileMode = 0x1A4 /*0644*/, WriteBits = 0x92 /*0222*/;

    private readonly bool _windowsNames;
    private readonly bool? _caseInsensitive;

    /// <param name="windowsNames">Refuse names Windows cannot hold (on Windows always; tests force it elsewhere).</param>
    /// <param name="caseInsensitive">Null: probe each destination; true/false: assume (tests).</param>
    public PortableFileSystem(bool windowsNames, bool? caseInsensitive = null)
    {
        _windowsNames = windowsNames;
        _caseInsensitive = caseInsensitive;
    }

    /// <summary>The portable layer as this OS needs it.</summary>
    public static PortableFileSystem ForThisOs() => new(windowsNames: OperatingSystem.IsWindows());

    public string Name => "portable";

    public bool TryGetInfo(string path, out FileEntryInfo info)
    {
        info = default;
        FileSystemInfo entry = new FileInfo(path);
        var attributes = entry.Attributes;
        if ((int)attributes == -1) return false; // .NET's "does not exist"
        EntryKind kind;
        if ((attributes & FileAttributes.ReparsePoint) != 0 && entry.LinkTarget is not null) kind = EntryKind.Symlink;
        else if ((attributes & FileAttributes.Directory) != 0) kind = EntryKind.Directory;
        else kind = EntryKind.Regular;
        if (kind == EntryKind.Directory) entry = new DirectoryInfo(path);

        var facts = NativeFacts.Get(path, kind);
        if (facts is null) return false; // removed since
        if (facts.Value.Special) kind = EntryKind.Other;

        long ticks = entry.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks;
        long sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { sec--; rem += TimeSpan.TicksPerSecond; }
        info = new FileEntryInfo(kind, Permissions(entry, kind), kind == EntryKind.Regular ? ((FileInfo)entry).Length : 0,
            sec, (uint)(rem * 100), facts.Value.LinkCount, facts.Value.Uid, facts.Value.Gid, facts.Value.Identity);
        return true;
    }

    private static int Permissions(FileSystemInfo entry, EntryKind kind)
    {
        if (kind == EntryKind.Symlink) return 0x1FF; // what lstat reports for a symlink everywhere
        if (OperatingSystem.IsWindows())
        {
            int mode = kind == EntryKind.Directory ? WindowsDirectoryMode : WindowsFileMode;
            return (entry.Attributes & FileAttributes.ReadOnly) != 0 ? mode & ~WriteBits : mode;
        }
        return (int)entry.UnixFileMode;
    }

    public string ReadLink(string path)
    {
        string target = new FileInfo(path).LinkTarget ?? throw new IOException($"{path}: not a symlink any more");
        // Archives hold '/'-separated targets, whatever OS wrote them.
        return OperatingSystem.IsWindows() ? target.Replace('\\', '/') : target;
    }

    public void CreateSymbolicLink(string path, string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.CreateSymbolicLink(path, target);
            return;
        }
        string windowsTarget = target.Replace('/', '\\');
        // Windows has file and directory symlinks; one whose target does not exist (yet) becomes a file symlink.
        string resolved = Path.IsPathFullyQualified(windowsTarget) ? windowsTarget : Path.Join(Path.GetDirectoryName(path), windowsTarget);
        try
        {
            if (Directory.Exists(resolved)) Directory.CreateSymbolicLink(path, windowsTarget);
            else File.CreateSymbolicLink(path, windowsTarget);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e.HResult == WindowsNative.PrivilegeNotHeld)
        {
            throw new IOException($"{path}: creating symbolic links on Windows needs Developer Mode or the 'Create symbolic links' privilege (SeCreateSymbolicLinkPrivilege)", e);
        }
    }

    public bool TryCreateHardLink(string existing, string newPath)
    {
        if (OperatingSystem.IsWindows()) return WindowsNative.TryCreateHardLink(existing, newPath);
        if (OperatingSystem.IsMacOS()) return MacNative.TryCreateHardLink(existing, newPath);
        if (OperatingSystem.IsLinux()) return LinuxFileSystem.Instance.TryCreateHardLink(existing, newPath);
        throw new PlatformNotSupportedException("hard links are not supported on this OS");
    }

    public void SetPermissions(SafeFileHandle file, int mode, string pathForErrors)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, (UnixFileMode)mode);
    }

    public void SetPermissions(string path, int mode)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)mode);
    }

    public void SetModificationTime(SafeFileHandle file, long sec, long nsec, string pathForErrors) =>
        File.SetLastWriteTimeUtc(file, ToDateTime(sec, nsec));

    public void SetModificationTime(string path, EntryKind kind, long sec, long nsec)
    {
        switch (kind)
        {
            case EntryKind.Directory:
                Directory.SetLastWriteTimeUtc(path, ToDateTime(sec, nsec));
                break;
            case EntryKind.Symlink when OperatingSystem.IsWindows():
                // Not promised by .NET on Windows not to follow the link: a symlink keeps its own time.
                break;
            default:
                // On Unix .NET sets the times of a symlink itself (utimensat with AT_SYMLINK_NOFOLLOW).
                File.SetLastWriteTimeUtc(path, ToDateTime(sec, nsec));
                break;
        }
    }

    public void MoveToNew(string from, string to)
    {
        if (OperatingSystem.IsWindows()) { WindowsNative.MoveToNew(from, to); return; }
        if (OperatingSystem.IsMacOS()) { MacNative.MoveToNew(from, to); return; }
        if (!TryGetInfo(from, out var info)) throw new FileNotFoundException($"{from}: no such file or directory");
        if (info.Kind == EntryKind.Directory) Directory.Move(from, to);
        else File.Move(from, to, overwrite: false);
    }

    public string? RefuseName(string relativeName) => _windowsNames ? FileNameRules.RefuseOnWindows(relativeName) : null;

    public bool IsCaseInsensitive(string directory) => _caseInsensitive ?? FileNameRules.ProbeCaseInsensitive(this, directory);

    private static DateTime ToDateTime(long sec, long nsec) =>
        new(DateTime.UnixEpoch.Ticks + sec * TimeSpan.TicksPerSecond + nsec / 100, DateTimeKind.Utc);

    /// <summary>What only a native call tells: link count, identity, owner, and (Unix) a special file.</summary>
    private readonly record struct Facts(uint LinkCount, uint Uid, uint Gid, FileIdentity Identity, bool Special);

    private static class NativeFacts
    {
        public static Facts? Get(string path, EntryKind kind)
        {
            if (OperatingSystem.IsWindows())
                return kind == EntryKind.Regular ? WindowsNative.Facts(path) : new Facts(1, 0, 0, default, false);
            if (OperatingSystem.IsMacOS()) return MacNative.Facts(path);
            if (OperatingSystem.IsLinux())
            {
                if (!LinuxFileSystem.Instance.TryGetInfo(path, out var st)) return null;
                return new Facts(st.LinkCount, st.Uid, st.Gid, st.Identity, st.Kind == EntryKind.Other);
            }
            return new Facts(1, 0, 0, default, false);
        }
    }

    /// <summary>libSystem on macOS: lstat (64-bit-inode struct stat), linkat, renamex_np.</summary>
    [SupportedOSPlatform("macos")]
    private static partial class MacNative
    {
        private const string LibSystem = "/usr/lib/libSystem.B.dylib";
        private const int AtFdCwd = -2; // macOS's value (Linux uses -100)
        private const uint RenameExcl = 0x4;
        private const int ENOENT = 2, ENOTDIR = 20, EXDEV = 18, EINVAL = 22, ENOTSUP = 45;

        /// <summary>struct stat with 64-bit inodes (sys/stat.h, __DARWIN_64_BIT_INO_T): same on x64 and arm64.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 144)]
        private struct Stat
        {
            [FieldOffset(0)] public int Dev;
            [FieldOffset(4)] public ushort Mode;
            [FieldOffset(6)] public ushort Nlink;
            [FieldOffset(8)] public ulong Ino;
            [FieldOffset(16)] public uint Uid;
            [FieldOffset(20)] public uint Gid;
        }

        // x64 keeps the 32-bit-inode lstat under the plain name; arm64 only has the 64-bit one.
        [LibraryImport(LibSystem, EntryPoint = "lstat$INODE64", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int LstatX64(string path, out Stat buf);

        [LibraryImport(LibSystem, EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int LstatArm64(string path, out Stat buf);

        [LibraryImport(LibSystem, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int LinkAt(int fromDir, string from, int toDir, string to, int flags);

        [LibraryImport(LibSystem, EntryPoint = "renamex_np", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int RenameX(string from, string to, uint flags);

        [LibraryImport(LibSystem, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int Rename(string from, string to);

        public static Facts? Facts(string path)
        {
            Stat st;
            int rc = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? LstatX64(path, out st) : LstatArm64(path, out st);
            if (rc != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is ENOENT or ENOTDIR) return null;
                throw UnixStat.Error(errno, path);
            }
            return new Facts(st.Nlink, st.Uid, st.Gid, new FileIdentity((uint)st.Dev, st.Ino), UnixStat.KindOf(st.Mode) == EntryKind.Other);
        }

        public static bool TryCreateHardLink(string existing, string newPath)
        {
            // Flags 0: a symlink is linked itself, not followed.
            if (LinkAt(AtFdCwd, existing, AtFdCwd, newPath, 0) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EXDEV) return false;
            throw UnixStat.Error(errno, newPath);
        }

        public static void MoveToNew(string from, string to)
        {
            if (RenameX(from, to, RenameExcl) == 0) return;
            int errno = Marshal.GetLastPInvokeError();
            // File systems without RENAME_EXCL: the caller has checked that nothing is there.
            if (errno is ENOTSUP or EINVAL && Rename(from, to) == 0) return;
            throw UnixStat.Error(errno is ENOTSUP or EINVAL ? Marshal.GetLastPInvokeError() : errno, to);
        }
    }

    /// <summary>kernel32 on Windows: file identity and link count, hard links, a move that never replaces.</summary>
    [SupportedOSPlatform("windows")]
    private static partial class WindowsNative
    {
        public const int PrivilegeNotHeld = unchecked((int)0x80070522); // HRESULT of ERROR_PRIVILEGE_NOT_HELD (1314)
        private const int ErrorNotSameDevice = 17;
        private const uint FileReadAttributes = 0x80, ShareAll = 0x7, OpenExisting = 3;
        private const uint BackupSemantics = 0x02000000, OpenReparsePoint = 0x00200000;

        /// <summary>BY_HANDLE_FILE_INFORMATION (fileapi.h): its FILETIMEs are 4-byte aligned, hence explicit offsets.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 52)]
        private struct ByHandleFileInformation
        {
            [FieldOffset(28)] public uint VolumeSerialNumber;
            [FieldOffset(40)] public uint NumberOfLinks;
            [FieldOffset(44)] public uint FileIndexHigh;
            [FieldOffset(48)] public uint FileIndexLow;
        }

        [LibraryImport("kernel32.dll", EntryPoint = "CreateFileW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
        private static partial SafeFileHandle CreateFile(string name, uint access, uint share, nint security, uint disposition, uint flags, nint template);

        [LibraryImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static partial bool GetFileInformationByHandle(SafeFileHandle file, out ByHandleFileInformation info);

        [LibraryImport("kernel32.dll", EntryPoint = "CreateHardLinkW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static partial bool CreateHardLink(string newName, string existing, nint security);

        [LibraryImport("kernel32.dll", EntryPoint = "MoveFileExW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static partial bool MoveFileEx(string from, string to, uint flags);

        public static Facts? Facts(string path)
        {
            using var handle = CreateFile(LongPath(path), FileReadAttributes, ShareAll, 0, OpenExisting, BackupSemantics | OpenReparsePoint, 0);
            if (handle.IsInvalid)
            {
                int error = Marshal.GetLastPInvokeError();
                if (error is 2 or 3) return null; // file or path not found
                throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(error)}");
            }
            if (!GetFileInformationByHandle(handle, out var info))
                throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            return new Facts(info.NumberOfLinks, 0, 0,
                new FileIdentity(info.VolumeSerialNumber, ((ulong)info.FileIndexHigh << 32) | info.FileIndexLow), false);
        }

        public static bool TryCreateHardLink(string existing, string newPath)
        {
            if (CreateHardLink(LongPath(newPath), LongPath(existing), 0)) return true;
            int error = Marshal.GetLastPInvokeError();
            if (error == ErrorNotSameDevice) return false;
            throw new IOException($"{newPath}: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        public static void MoveToNew(string from, string to)
        {
            // No MOVEFILE_REPLACE_EXISTING: an existing destination is an error, never overwritten.
            if (!MoveFileEx(LongPath(from), LongPath(to), 0))
                throw new IOException($"{to}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        /// <summary>Win32 calls made here (not through .NET, which does this itself) need the \\?\ form past MAX_PATH.</summary>
        private static string LongPath(string path)
        {
            if (path.Length < 260 || path.StartsWith(@"\\?\", StringComparison.Ordinal)) return path;
            string full = Path.GetFullPath(path).Replace('/', '\\');
            return full.StartsWith(@"\\", StringComparison.Ordinal) ? @"\\?\UNC\" + full[2..] : @"\\?\" + full;
        }
    }
}
