using System.Formats.Tar;
using System.Security.Cryptography;
using ZstdSharp;

namespace S3Pod.Archive;

/// <summary>
/// The read side. Three phases, so that a failure of any kind leaves the destinations as they were:
/// <list type="number">
/// <item>Extract every entry into a private staging directory per destination (created inside the
/// destination, or inside its nearest existing ancestor, so it is on the same filesystem and the final
/// moves are renames). Every entry is checked on the way: name, type, symlinks on its path, hard-link
/// target. The whole stream is read, so the zstd content checksum is verified before anything moves.</item>
/// <item>Compare the staged tree with the destination (lstat only, nothing changes): a symlink in the
/// destination where the archive has a directory is refused (writing through it could land anywhere),
/// a file/directory clash is an error.</item>
/// <item>Move staged entries into place: new names are renamed in whole (one rename per new subtree),
/// existing directories are merged into, existing files are moved aside and replaced. Every step is
/// journaled; if one fails, the journal is undone in reverse. Directory modes and mtimes are set last,
/// deepest first, because adding entries to a directory changes its mtime and a read-only mode would
/// stop the moves.</item>
/// </list>
/// Setuid and setgid bits are dropped on extraction (a cache must not mint privileged binaries); the
/// sticky bit and rwx are restored exactly, not masked by the umask. Ownership is not restored: files
/// belong to the user running s3pod, as with GNU tar run by a non-root user.
/// Names the target OS cannot hold (<see cref="IFileSystem.RefuseName"/>) and names that would become
/// one file on a case-insensitive destination are refused in phase 1, before anything moves.
/// GNU sparse files (PAX formats 0.1 and 1.0) are restored with their holes; format 0.0 and the old
/// GNU 'S' type are refused (see <see cref="SparseFile"/>).
/// </summary>
internal sealed class TarUnpacker
{
    private const int BufferSize = 1 << 20;
    /// <summary>The mode bits an extracted entry keeps: rwx for owner, group and other (0777) and the
    /// sticky bit (01000), together 01777. setuid and setgid (04000, 02000) are dropped: an archive
    /// must not hand out privileges.</summary>
    public const int PermissionAndStickyBits = 0x1FF | 0x200;

    private sealed class Root
    {
        public required string BaseDir;   // the destination as the caller named it (absolute)
        public required string Anchor;    // BaseDir if it exists, else its nearest existing ancestor
        public required string StageDir;  // Anchor/.s3pod-stage-XXXX (private, 0700)
        public required string NewDir;    // StageDir/n: mirrors Anchor
        public required string StageBase; // NewDir[/path from Anchor to BaseDir]: mirrors BaseDir
        public required string OldDir;    // StageDir/o: replaced destination files, until success
        public (long Sec, long Nsec) AnchorMtime;
        public required HashSet<string> Symlinks;  // rel paths of staged symlinks (case-folded where names are)
        public Dictionary<string, string>? FoldedNames; // case-insensitive destinations: folded rel -> the rel first seen
        public string? LastParent;        // last staged parent known to exist (skips a mkdir per entry)
        public int Replaced;
    }

    private readonly record struct DirMeta(Root Root, string Rel, int Mode, long Sec, long Nsec);

    private enum Step { Created, MovedAside }

    private readonly IFileSystem _fs;
    private readonly Func<string, (string BaseDir, string RelativePath)?> _locate;
    private readonly Func<string, bool>? _include;
    private readonly CancellationToken _ct;
    private readonly Dictionary<string, Root> _roots = new(StringComparer.Ordinal);
    private readonly List<DirMeta> _dirs = new();
    private readonly List<(Step Step, string From, string To)> _journal = new();
    private readonly byte[] _buffer = new byte[BufferSize];
    private long _files, _dirCount, _symlinks, _hardLinks, _bytes;

    private TarUnpacker(IFileSystem fs, Func<string, (string, string)?> locate, Func<string, bool>? include, CancellationToken ct)
    {
        _fs = fs;
        _locate = locate;
        _include = include;
        _ct = ct;
    }

    /// <param name="include">Selects the entries to extract (by canonical name); the others are skipped. Null: all.</param>
    /// <param name="compressed">False: the input is a plain tar stream (the chunk store decompresses and verifies its chunks itself).</param>
    public static ArchiveStats Unpack(IFileSystem fs, Stream input, Func<string, (string BaseDir, string RelativePath)?> locate, CancellationToken ct, Func<string, bool>? include = null,
        bool compressed = true)
    {
        var unpacker = new TarUnpacker(fs, locate, include, ct);
        bool ok = false;
        try
        {
            unpacker.ExtractAll(input, compressed);
            ct.ThrowIfCancellationRequested();
            unpacker.CheckDestinations();
            unpacker.Commit();
            ok = true;
            unpacker.ApplyDirectoryMetadata();
        }
        finally
        {
            unpacker.Cleanup(ok);
        }
        return new ArchiveStats(unpacker._files, unpacker._dirCount, unpacker._symlinks, unpacker._hardLinks, unpacker._bytes);
    }

    private void ExtractAll(Stream input, bool compressed)
    {
        using var source = new ZstdSource(input);
        using var data = new ReadAheadStream(compressed ? source.FillAsync : input.ReadAsync, _ct);
        // Look at the first header before handing the stream to TarReader, so that a zstd stream holding
        // something else is reported as "not a tar.zst archive" rather than as a damaged one.
        byte[] first = new byte[512];
        int got = data.ReadAtLeast(first, first.Length, throwOnEndOfStream: false);
        if (got == 0) { DrainToEnd(data); return; } // an empty stream: an archive of nothing
        if (got < first.Length || !LooksLikeTarHeader(first))
            throw S3PodException.Integrity("not a tar.zst archive: the zstd stream does not hold a tar archive");
        var headers = new LastBlockStream(new PrefixedStream(first, got, data));
        using var reader = new TarReader(headers, leaveOpen: true);
        while (true)
        {
            _ct.ThrowIfCancellationRequested();
            TarEntry? entry;
            try
            {
                entry = reader.GetNextEntry(copyData: false);
            }
            catch (NotSupportedException) when (headers.LastBlock is { } block && block[156] == (byte)'S' && LooksLikeTarHeader(block))
            {
                // TarReader reads the old GNU sparse type's header, then gives up.
                throw SparseFile.Unsupported(HeaderName(block), "GNU sparse ('S' type, tar --format=gnu -S)");
            }
            catch (InvalidDataException e) when (e.Message.Contains("duplicate extended attribute", StringComparison.OrdinalIgnoreCase))
            {
                // GNU sparse format 0.0 repeats GNU.sparse.offset/numbytes; TarReader rejects repeated keys
                // in the extended header, before the entry itself is read. Its message names that header.
                throw SparseFile.Unsupported(e.Message.ReplaceLineEndings(" "), "GNU sparse format 0.0 (or another extended header repeating a keyword)");
            }
            catch (Exception e) when (IsFormatError(e))
            {
                throw Corrupt(e);
            }
            if (entry is null) break;
            Extract(entry);
        }
        DrainToEnd(data);
    }

    private void DrainToEnd(Stream data)
    {
        // Read to the very end: the zstd frame checksum is only verified there, and bytes after the
        // tar end marker must still decode cleanly.
        while (data.Read(_buffer) > 0) _ct.ThrowIfCancellationRequested();
    }

    /// <summary>An all-zero block (end of archive) or a header whose checksum adds up (POSIX: unsigned
    /// sum with the checksum field read as spaces; some old tars summed signed bytes).</summary>
    private static bool LooksLikeTarHeader(ReadOnlySpan<byte> block)
    {
        if (!block.ContainsAnyExcept((byte)0)) return true;
        long unsignedSum = 0, signedSum = 0;
        for (int i = 0; i < 512; i++)
        {
            byte b = i is >= 148 and < 156 ? (byte)' ' : block[i];
            unsignedSum += b;
            signedSum += (sbyte)b;
        }
        var field = System.Text.Encoding.ASCII.GetString(block.Slice(148, 8)).Trim(' ', '\0');
        if (field.Length == 0 || field.Any(c => c is < '0' or > '7')) return false;
        long stored = Convert.ToInt64(field, 8);
        return stored == unsignedSum || stored == signedSum;
    }

    private static bool IsFormatError(Exception e) =>
        e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException or OverflowException;

    private static S3PodException Corrupt(Exception e) =>
        S3PodException.Integrity($"archive is truncated or corrupt ({e.Message.ReplaceLineEndings(" ")})");

    private static S3PodException Refuse(string entry, string why) =>
        S3PodException.Integrity($"refusing unsafe archive entry {EntryNames.Quote(entry)}: {why}");

    /// <summary>The name field of a raw header block (old GNU headers have no prefix field).</summary>
    private static string HeaderName(byte[] block)
    {
        int end = Array.IndexOf(block, (byte)0, 0, 100);
        return System.Text.Encoding.UTF8.GetString(block, 0, end < 0 ? 100 : end);
    }

    private void Extract(TarEntry entry)
    {
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes) return; // metadata only
        var sparse = SparseFile.Describe(entry);
        string raw = sparse?.Name ?? entry.Name;
        switch (entry.EntryType)
        {
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                throw Refuse(raw, "device and FIFO entries are not allowed");
            case TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile
                or TarEntryType.ContiguousFile or TarEntryType.SymbolicLink or TarEntryType.HardLink:
                break;
            default:
                throw Refuse(raw, $"unsupported entry type {entry.EntryType}");
        }

        // Not selected: skipped (its data is passed over by the reader). Unsafe names still refuse the archive below.
        if (_include is not null && EntryNames.Normalize(raw) is { } selectable && !_include(selectable)) return;
        var (root, rel) = Locate(raw, raw, "its path is absolute or contains '..'");
        if (rel.Length == 0 && entry.EntryType != TarEntryType.Directory)
            throw Refuse(raw, "it would replace the destination directory itself");
        CheckName(root, rel, raw);
        CheckNoSymlinkOnPath(root, rel, raw);
        string staged = rel.Length == 0 ? root.StageBase : Join(root.StageBase, rel);
        if (rel.Length > 0) EnsureParent(root, rel, raw);

        var (sec, nsec) = ToUnix(entry.ModificationTime);
        int mode = (int)entry.Mode & PermissionAndStickyBits;
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (_fs.TryGetInfo(staged, out var st))
                {
                    if (st.Kind != EntryKind.Directory) throw Refuse(raw, "it clashes with an earlier entry of another type");
                }
                else
                {
                    Directory.CreateDirectory(staged);
                }
                // Mode and mtime wait until everything is in place (see the class comment).
                _dirs.Add(new DirMeta(root, rel, mode, sec, nsec));
                _dirCount++;
                break;

            case TarEntryType.SymbolicLink:
                string target = entry.LinkName;
                if (target.Length == 0 || target.Contains('\0')) throw Refuse(raw, "symlink with an empty or invalid target");
                PrepareNonDirectory(root, rel, staged, raw);
                // Stored verbatim, as GNU tar does; what matters is that nothing is written through it,
                // which CheckNoSymlinkOnPath (archive) and CheckDestinations (destination) enforce.
                try
                {
                    _fs.CreateSymbolicLink(staged, target);
                    _fs.SetModificationTime(staged, EntryKind.Symlink, sec, nsec);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw S3PodException.Operational($"cannot create the symlink {Join(root.BaseDir, rel)}: {e.Message}", e);
                }
                root.Symlinks.Add(rel);
                _symlinks++;
                break;

            case TarEntryType.HardLink:
                ExtractHardLink(entry, root, rel, staged, raw);
                break;

            default:
                PrepareNonDirectory(root, rel, staged, raw);
                ExtractFile(entry, sparse, root, rel, staged, mode, sec, nsec, raw);
                break;
        }
    }

    private (Root Root, string Rel) Locate(string rawName, string entryForMessages, string badNameWhy)
    {
        string name = EntryNames.Normalize(rawName) ?? throw Refuse(entryForMessages, badNameWhy);
        var loc = _locate(name) ?? throw Refuse(entryForMessages, "it is outside the paths this archive may restore");
        string rel = loc.RelativePath;
        if (rel.Length > 0 && !EntryNames.IsCanonicalRelative(rel))
            throw Refuse(entryForMessages, "its path is absolute or contains '..'");
        return (GetRoot(loc.BaseDir), rel);
    }

    /// <summary>
    /// Names the destination cannot hold as they are: forbidden by the OS, or (case-insensitive
    /// destination) another entry's name, or a parent's, in another case. Checked before the entry is
    /// written even to staging, so two names never silently become one file.
    /// </summary>
    private void CheckName(Root root, string rel, string raw)
    {
        if (rel.Length == 0) return;
        if (_fs.RefuseName(rel) is { } why) throw Refuse(raw, why);
        if (root.FoldedNames is not { } seen) return;
        for (int i = rel.IndexOf('/'); ; i = rel.IndexOf('/', i + 1))
        {
            string prefix = i < 0 ? rel : rel[..i];
            string folded = FileNameRules.Fold(prefix);
            if (!seen.TryAdd(folded, prefix) && seen[folded] != prefix)
                throw Refuse(raw, $"on this case-insensitive file system {EntryNames.Quote(prefix)} and the earlier entry {EntryNames.Quote(seen[folded])} would be one file");
            if (i < 0) break;
        }
    }

    private static string Join(string dir, string rel) =>
        Path.Join(dir, OperatingSystem.IsWindows() ? rel.Replace('/', '\\') : rel);

    private static void CheckNoSymlinkOnPath(Root root, string rel, string raw)
    {
        if (root.Symlinks.Count == 0) return;
        for (int i = rel.IndexOf('/'); i >= 0; i = rel.IndexOf('/', i + 1))
        {
            string prefix = rel[..i];
            if (root.Symlinks.Contains(prefix))
                throw Refuse(raw, $"its path passes through the symlink {EntryNames.Quote(prefix)} of the archive");
        }
    }

    private void EnsureParent(Root root, string rel, string raw)
    {
        string parent = EntryNames.Parent(rel);
        if (parent.Length == 0 || parent == root.LastParent) return;
        string stagedParent = Join(root.StageBase, parent);
        try
        {
            // Directories implied by a path but without an entry of their own get the default mode
            // (0777 minus the umask), as with GNU tar.
            Directory.CreateDirectory(stagedParent);
        }
        catch (IOException)
        {
            throw Refuse(raw, "a parent of it is an earlier entry that is not a directory");
        }
        root.LastParent = parent;
    }

    /// <summary>A later entry of the same name replaces an earlier file or symlink (tar semantics), never a directory.</summary>
    private void PrepareNonDirectory(Root root, string rel, string staged, string raw)
    {
        if (!_fs.TryGetInfo(staged, out var st)) return;
        if (st.Kind == EntryKind.Directory) throw Refuse(raw, "it clashes with an earlier directory entry");
        File.Delete(staged);
        root.Symlinks.Remove(rel);
    }

    private void ExtractFile(TarEntry entry, SparseFile? sparse, Root root, string rel, string staged, int mode, long sec, long nsec, string raw)
    {
        string dest = Join(root.BaseDir, rel);
        long size;
        try
        {
            using var handle = File.OpenHandle(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            var data = entry.DataStream ?? Stream.Null;
            if (sparse is null)
            {
                size = Copy(data, handle, 0, long.MaxValue, raw);
                if (size != entry.Length)
                    throw S3PodException.Integrity($"archive is truncated or corrupt (entry {EntryNames.Quote(raw)} is short)");
            }
            else
            {
                IReadOnlyList<SparseRegion> map;
                try
                {
                    map = sparse.ReadMap(data, entry.Length);
                }
                catch (Exception e) when (IsFormatError(e))
                {
                    throw Corrupt(e);
                }
                // Only the regions are written: what lies between stays a hole where the file system has them.
                foreach (var region in map)
                {
                    if (Copy(data, handle, region.Offset, region.Length, raw) != region.Length)
                        throw S3PodException.Integrity($"archive is truncated or corrupt (entry {EntryNames.Quote(raw)} is short)");
                }
                RandomAccess.SetLength(handle, sparse.RealSize);
                size = sparse.RealSize;
            }
            _fs.SetPermissions(handle, mode, dest);
            _fs.SetModificationTime(handle, sec, nsec, dest); // after the data: writing sets mtime
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot write {dest}: {e.Message}", e);
        }
        _files++;
        _bytes += size;
    }

    /// <summary>Copies up to <paramref name="limit"/> bytes of the entry's data into the file at
    /// <paramref name="offset"/>; returns how many there were.</summary>
    private long Copy(Stream data, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, long limit, string raw)
    {
        long written = 0;
        while (written < limit)
        {
            int n;
            try
            {
                n = data.Read(_buffer, 0, (int)Math.Min(_buffer.Length, limit - written));
            }
            catch (Exception e) when (IsFormatError(e))
            {
                throw Corrupt(e);
            }
            if (n == 0) break;
            _ct.ThrowIfCancellationRequested();
            RandomAccess.Write(handle, _buffer.AsSpan(0, n), offset + written);
            written += n;
        }
        return written;
    }

    private void ExtractHardLink(TarEntry entry, Root root, string rel, string staged, string raw)
    {
        const string badTarget = "hard link target is absolute or contains '..'";
        if (_include is not null && EntryNames.Normalize(entry.LinkName) is { } target && !_include(target))
            throw S3PodException.Operational($"cannot extract {EntryNames.Quote(raw)} on its own: it is a hard link to {EntryNames.Quote(target)}, which is outside the selected part of the archive");
        var (troot, trel) = Locate(entry.LinkName, raw, badTarget);
        if (trel.Length == 0) throw Refuse(raw, "hard link to a directory");
        // The target's name goes through the same checks as an entry's: on a case-insensitive file
        // system "L/x" would otherwise pass through the archive's symlink "l".
        CheckName(troot, trel, raw);
        CheckNoSymlinkOnPath(troot, trel, raw);
        string stagedTarget = Join(troot.StageBase, trel);
        // Everything in staging came from this archive, so "exists in staging" means "an earlier entry".
        if (!_fs.TryGetInfo(stagedTarget, out var tst) || (tst.Kind != EntryKind.Regular && tst.Kind != EntryKind.Symlink))
            throw Refuse(raw, $"hard link target {EntryNames.Quote(entry.LinkName)} is not an earlier file of the archive");
        if (stagedTarget == staged) { _hardLinks++; return; } // a link to itself: nothing to do
        PrepareNonDirectory(root, rel, staged, raw);
        string dest = Join(root.BaseDir, rel);
        try
        {
            if (!_fs.TryCreateHardLink(stagedTarget, staged))
            {
                // Two destinations on different file systems: a copy is the best a hard link can become.
                // A symlink is copied as a symlink: File.Copy would read through it.
                if (tst.Kind == EntryKind.Symlink) _fs.CreateSymbolicLink(staged, _fs.ReadLink(stagedTarget));
                else File.Copy(stagedTarget, staged);
                _fs.SetModificationTime(staged, tst.Kind, tst.MtimeSec, tst.MtimeNsec);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot create hard link {dest}: {e.Message}", e);
        }
        if (tst.Kind == EntryKind.Symlink) root.Symlinks.Add(rel);
        _hardLinks++;
    }

    private Root GetRoot(string baseDir)
    {
        if (_roots.TryGetValue(baseDir, out var known)) return known;
        if (!Path.IsPathFullyQualified(baseDir)) throw new ArgumentException($"destination must be absolute: {baseDir}");
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDir));
        if (full.Length == 0) full = "/";
        string anchor = full;
        // The destination itself may be a symlink to a directory (the user's choice, followed); below it
        // nothing is followed.
        while (!Directory.Exists(anchor))
        {
            if (File.Exists(anchor) || _fs.TryGetInfo(anchor, out _))
                throw S3PodException.Operational($"{anchor} exists and is not a directory");
            anchor = Path.GetDirectoryName(anchor) ?? throw S3PodException.Operational($"{full}: no existing parent directory");
        }
        string stageDir = Path.Join(anchor, ".s3pod-stage-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        var anchorStat = _fs.TryGetInfo(anchor, out var ast) ? ast : default;
        try
        {
            // New, so no one else can have put anything in it; 0700 keeps half-restored content private.
            if (Directory.Exists(stageDir)) throw new IOException($"{stageDir} already exists");
            Directory.CreateDirectory(stageDir);
            _fs.SetPermissions(stageDir, 0x1C0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot create a staging directory in {anchor}: {e.Message}", e);
        }
        string newDir = Path.Join(stageDir, "n");
        string relFromAnchor = Path.GetRelativePath(anchor, full);
        var root = new Root
        {
            BaseDir = full,
            Anchor = anchor,
            StageDir = stageDir,
            NewDir = newDir,
            StageBase = relFromAnchor == "." ? newDir : Path.Join(newDir, relFromAnchor),
            OldDir = Path.Join(stageDir, "o"),
            AnchorMtime = (anchorStat.MtimeSec, anchorStat.MtimeNsec),
            Symlinks = new HashSet<string>(StringComparer.Ordinal),
        };
        _roots[baseDir] = root; // registered first, so Cleanup removes it whatever happens next
        try
        {
            Directory.CreateDirectory(root.StageBase);
            Directory.CreateDirectory(root.OldDir);
            // Staging is on the destination's file system, so it answers for the destination.
            if (_fs.IsCaseInsensitive(root.StageDir)) root.FoldedNames = new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot use the staging directory {stageDir}: {e.Message}", e);
        }
        return root;
    }

    private void CheckDestinations()
    {
        foreach (var root in _roots.Values) Walk(root, root.NewDir, root.Anchor, commit: false);
    }

    private void Commit()
    {
        try
        {
            foreach (var root in _roots.Values) Walk(root, root.NewDir, root.Anchor, commit: true);
        }
        catch
        {
            Rollback();
            throw;
        }
    }

    /// <summary>
    /// Goes through the staged tree <paramref name="src"/> against the destination directory
    /// <paramref name="dst"/>, descending only where both sides are real directories. With
    /// <paramref name="commit"/> false it only checks; with true it moves (and re-checks each name
    /// with lstat just before acting, in case the destination changed since the check).
    /// </summary>
    private void Walk(Root root, string src, string dst, bool commit)
    {
        var names = new System.IO.Enumeration.FileSystemEnumerable<string>(src, (ref System.IO.Enumeration.FileSystemEntry e) => e.FileName.ToString(),
            new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false }).ToArray();
        foreach (string name in names)
        {
            string s = Path.Join(src, name);
            string d = Path.Join(dst, name);
            _fs.TryGetInfo(s, out var sst);
            bool exists = _fs.TryGetInfo(d, out var dst2);
            string entry = Path.GetRelativePath(root.BaseDir, d);
            if (!exists)
            {
                if (commit) Move(Step.Created, s, d);
                continue;
            }
            if (sst.Kind == EntryKind.Directory)
            {
                if (dst2.Kind == EntryKind.Directory) Walk(root, s, d, commit);
                else if (dst2.Kind == EntryKind.Symlink)
                    throw Refuse(entry, $"the destination {d} is a symlink, and extracting through it could write anywhere");
                else
                    throw S3PodException.Operational($"cannot restore {EntryNames.Quote(entry)}: {d} exists and is not a directory");
            }
            else if (dst2.Kind == EntryKind.Directory)
            {
                throw S3PodException.Operational($"cannot restore {EntryNames.Quote(entry)}: {d} is a directory");
            }
            else if (commit)
            {
                string aside = Path.Join(root.OldDir, (root.Replaced++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                Move(Step.MovedAside, d, aside);
                Move(Step.Created, s, d);
            }
        }
    }

    private void Move(Step step, string from, string to)
    {
        try
        {
            _fs.MoveToNew(from, to);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot move {to} into place: {e.Message}", e);
        }
        _journal.Add((step, from, to));
    }

    private void Rollback()
    {
        for (int i = _journal.Count - 1; i >= 0; i--)
        {
            var (_, from, to) = _journal[i];
            try { _fs.MoveToNew(to, from); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* keep undoing the rest */ }
        }
        _journal.Clear();
    }

    private void ApplyDirectoryMetadata()
    {
        // Deepest first: setting a child's metadata does not touch its parent's mtime, but a read-only
        // parent must not be locked before its children are done.
        foreach (var d in _dirs.OrderByDescending(d => d.Rel.Length == 0 ? -1 : d.Rel.Count(c => c == '/')))
        {
            string path = d.Rel.Length == 0 ? d.Root.BaseDir : Join(d.Root.BaseDir, d.Rel);
            try
            {
                _fs.SetPermissions(path, d.Mode);
                _fs.SetModificationTime(path, EntryKind.Directory, d.Sec, d.Nsec);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw S3PodException.Operational($"cannot set the mode or time of {path}: {e.Message}", e);
            }
        }
    }

    private void Cleanup(bool ok)
    {
        foreach (var root in _roots.Values)
        {
            try
            {
                if (Directory.Exists(root.StageDir)) Directory.Delete(root.StageDir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort */ }
            if (!ok)
            {
                // Creating and removing the staging directory touched the anchor's mtime; put it back.
                try { _fs.SetModificationTime(root.Anchor, EntryKind.Directory, root.AnchorMtime.Sec, root.AnchorMtime.Nsec); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
    }

    private static (long Sec, long Nsec) ToUnix(DateTimeOffset t)
    {
        long ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { sec--; rem += TimeSpan.TicksPerSecond; }
        return (sec, rem * 100);
    }

    /// <summary>
    /// The compressed side: checks the zstd magic first (so "not an archive" and "damaged archive" are
    /// told apart), then decodes with end-of-stream checking on (a cut stream is an error, not an EOF).
    /// Decoder errors become exit 5; errors of the input stream itself pass through unchanged.
    /// </summary>
    private sealed class ZstdSource(Stream input) : IDisposable
    {
        private DecompressionStream? _zstd;

        public async ValueTask<int> FillAsync(Memory<byte> buffer, CancellationToken ct)
        {
            if (_zstd is null)
            {
                byte[] magic = new byte[4];
                int got = await input.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, ct).ConfigureAwait(false);
                uint m = got == 4 ? BitConverter.ToUInt32(magic) : 0;
                // A zstd frame (0xFD2FB528) or a skippable frame (0x184D2A50..5F), little-endian.
                if (m != 0xFD2FB528 && (m & 0xFFFFFFF0) != 0x184D2A50)
                    throw S3PodException.Integrity("not a tar.zst archive");
                _zstd = new DecompressionStream(new PrefixedStream(magic, got, input), BufferSize, checkEndOfStream: true, leaveOpen: true);
            }
            try
            {
                return await _zstd.ReadAsync(buffer, ct).ConfigureAwait(false);
            }
            catch (ZstdException e)
            {
                throw S3PodException.Integrity($"archive is truncated or corrupt ({e.Message})");
            }
            catch (EndOfStreamException)
            {
                throw S3PodException.Integrity("archive is truncated or corrupt (the zstd stream ends early)");
            }
        }

        public void Dispose() => _zstd?.Dispose();
    }
}
