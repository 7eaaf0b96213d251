using Microsoft.Win32.SafeHandles;

namespace S3Pod.Archive;

/// <summary>What lstat-like inspection says an entry is; <see cref="Other"/> covers FIFOs, sockets and devices.</summary>
internal enum EntryKind { Regular, Directory, Symlink, Other }

/// <summary>
/// One entry as the archive layer sees it, never following a final symlink. Permissions are the
/// twelve low mode bits (rwx, setuid, setgid, sticky); where the OS has no modes they are made up
/// (see the README's "Platforms"). Two entries with the same <see cref="Identity"/> and a
/// <see cref="LinkCount"/> above 1 are hard links of one file.
/// </summary>
internal readonly record struct FileEntryInfo(
    EntryKind Kind, int Permissions, long Size, long MtimeSec, uint MtimeNsec, uint LinkCount, uint Uid, uint Gid, FileIdentity Identity);

/// <summary>Which file an entry is: (st_dev, st_ino) on Unix, (volume serial, file index) on Windows.</summary>
internal readonly record struct FileIdentity(ulong Device, ulong Inode);

/// <summary>
/// Everything the archive layer needs from the operating system, so that packing and extraction
/// (and their safety rules) are written once. <see cref="LinuxFileSystem"/> is the fast path on
/// Linux; <see cref="PortableFileSystem"/> runs everywhere (.NET's file APIs plus the few native
/// calls each OS needs). <see cref="FileSystems.Select"/> picks one at start-up.
/// Failures are IOExceptions naming the path; callers turn them into user errors.
/// </summary>
internal interface IFileSystem
{
    /// <summary>"linux" or "portable", as S3POD_FS names them.</summary>
    string Name { get; }

    /// <summary>lstat: false when nothing is at <paramref name="path"/> (or a parent is not a directory).</summary>
    bool TryGetInfo(string path, out FileEntryInfo info);

    /// <summary>The target text of a symlink, verbatim ('/'-separated as archives store it).</summary>
    string ReadLink(string path);

    /// <summary>Creates a symlink holding <paramref name="target"/> (as stored in an archive, '/'-separated).</summary>
    void CreateSymbolicLink(string path, string target);

    /// <summary>Hard-links <paramref name="newPath"/> to <paramref name="existing"/> (the link itself
    /// when it is a symlink); false when the two are on different file systems.</summary>
    bool TryCreateHardLink(string existing, string newPath);

    /// <summary>Sets the permission bits exactly (no umask); a no-op where the OS has no modes.</summary>
    void SetPermissions(SafeFileHandle file, int mode, string pathForErrors);

    /// <inheritdoc cref="SetPermissions(SafeFileHandle, int, string)"/>
    void SetPermissions(string path, int mode);

    /// <summary>Sets the modification time of an open file (the access time is left alone where the OS allows).</summary>
    void SetModificationTime(SafeFileHandle file, long sec, long nsec, string pathForErrors);

    /// <summary>Sets the modification time of the entry at <paramref name="path"/> itself, never of a
    /// symlink's target; where the OS cannot do that for a symlink it leaves the symlink alone.</summary>
    void SetModificationTime(string path, EntryKind kind, long sec, long nsec);

    /// <summary>Moves a file, directory or symlink to a name that does not exist, on the same file system.</summary>
    void MoveToNew(string from, string to);

    /// <summary>
    /// Why an entry name (canonical, '/'-separated) cannot be created as is on this OS, or null when
    /// it can. Linux allows any name; Windows forbids reserved device names and some characters.
    /// </summary>
    string? RefuseName(string relativeName);

    /// <summary>Whether names in <paramref name="directory"/> (which exists and is writable) differ
    /// only in case and Unicode normalization: probed, so a case-insensitive mount on Linux is seen too.</summary>
    bool IsCaseInsensitive(string directory);
}
