namespace S3Pod.Archive;

// The archive layer: directory trees <-> standard tar.zst streams (PAX tar inside one zstd frame with a
// content checksum), streamed both ways with bounded memory.
//
//   ArchiveInput(SourcePath, EntryName)  one thing to archive: a file, a directory (recursively) or a
//       symlink (stored as a link, never followed), at an absolute SourcePath, stored under EntryName
//       ('/'-separated, relative, canonical); "" means the directory's contents at the archive root.
//   ArchiveStats(Files, Directories, Symlinks, HardLinks, UncompressedBytes, Skipped)  Skipped counts
//       sockets/FIFOs/devices left out on pack (always 0 on unpack).
//
// Every entry point takes the IFileSystem to work through first (FileSystems.Select picks it from the
// OS and S3POD_FS).
//
//   TarZstd.PackAsync(fs, inputs, output, level, exclude, ct)
//       PAX tar -> zstd (level, nbWorkers = processor count, checksum flag on) -> output, which is
//       written through its async API (so ct reaches it) and flushed but not closed. exclude(entryName)
//       returning true leaves that entry (and a directory's whole subtree) out. On failure or
//       cancellation the output never ends with a complete frame: the caller must discard it anyway.
//       Errors: S3PodException.Operational (exit 2) naming an unreadable/missing file.
//   TarZstd.UnpackAsync(fs, input, locate, ct)
//       zstd -> tar from input. locate(entryName) maps a canonical entry name to (BaseDir, RelativePath),
//       or null to refuse it (exit 5). Extracts into staging next to each BaseDir, validates everything
//       (the whole stream, the zstd checksum, every entry), then moves entries into place, merging into
//       existing directories and replacing existing files. On any failure or cancellation destinations
//       are as before and staging is removed. Errors: S3PodException.Integrity (exit 5) for "not a
//       tar.zst archive", "archive is truncated or corrupt (...)", "refusing unsafe archive entry '...':
//       ..." (also names this OS or a case-insensitive destination cannot hold), "refusing archive
//       entry '...'" (sparse formats it cannot restore); Operational (exit 2) for I/O problems,
//       file/directory clashes with the destination and symlinks the OS will not create.
//       Exceptions of the input stream itself (network) pass through unchanged.
//       include(entryName), when given, selects entries (artifact sub-paths): entries it returns false
//       for are skipped, not refused, after the checks that refuse a whole archive (types, names); a
//       selected hard link whose target was skipped fails with exit 2 naming both.
//   TarZstd.PackDirectoryAsync(fs, dir, ...) / UnpackDirectoryAsync(fs, input, dir, ct)
//       the same for one directory whose contents are the archive root (`dir upload/download`).
//
// Format: archives read back with `zstd -d | tar -x`; archives from `tar --posix -c . | zstd` and GNU-format
// `tar -c` are read (GNU long names, PAX records, GNU sparse files in PAX formats 0.1 and 1.0; "./"
// prefixes are stripped). See TarPacker and TarUnpacker for what is kept and what is refused.

/// <summary>One thing to archive; see the header of TarZstd.cs.</summary>
internal sealed record ArchiveInput(string SourcePath, string EntryName);

/// <summary>What a pack or unpack handled; UncompressedBytes is the sum of regular-file sizes.</summary>
/// <param name="TreeDigest">Hex sha256 of the packed tree's names, types, modes, link targets and
/// bytes (not mtimes or owners), when the pack was asked for it; see TarPacker.TreeLine.</param>
internal sealed record ArchiveStats(long Files, long Directories, long Symlinks, long HardLinks, long UncompressedBytes, long Skipped = 0, string? TreeDigest = null);

internal static class TarZstd
{
    /// <summary>Pass as the level to pack a plain tar stream (no zstd); unpack reads one with <c>compressed: false</c>.</summary>
    public const int Uncompressed = 0;

    public static Task<ArchiveStats> PackAsync(IFileSystem fs, IReadOnlyList<ArchiveInput> inputs, Stream output, int level, Func<string, bool>? exclude, CancellationToken ct,
        bool treeDigest = false) =>
        // Its own thread: the tar walk does synchronous file I/O (cheaper per file than async), and a
        // long pack must not hold a thread-pool thread.
        Task.Factory.StartNew(() => TarPacker.Pack(fs, inputs, output, level, exclude, ct, treeDigest), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static Task<ArchiveStats> UnpackAsync(IFileSystem fs, Stream input, Func<string, (string BaseDir, string RelativePath)?> locate, CancellationToken ct, Func<string, bool>? include = null,
        bool compressed = true) =>
        Task.Factory.StartNew(() => TarUnpacker.Unpack(fs, input, locate, ct, include, compressed), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static Task<ArchiveStats> PackDirectoryAsync(IFileSystem fs, string dir, Stream output, int level, CancellationToken ct, bool treeDigest = false)
    {
        string full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) throw S3PodException.Operational($"{dir}: no such directory");
        return PackAsync(fs, [new ArchiveInput(full, "")], output, level, null, ct, treeDigest);
    }

    public static async Task<ArchiveStats> UnpackDirectoryAsync(IFileSystem fs, Stream input, string dir, CancellationToken ct)
    {
        string full = Path.GetFullPath(dir);
        var stats = await UnpackAsync(fs, input, name => (full, name), ct).ConfigureAwait(false);
        // An archive of an empty directory has no entries, so nothing above created the destination.
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot create {full}: {e.Message}", e);
        }
        return stats;
    }
}
