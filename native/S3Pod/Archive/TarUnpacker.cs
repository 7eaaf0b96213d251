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
/// </summary>
internal sealed class TarUnpacker
{
    private const int BufferSize = 1 << 20;
    private const int KeptModeBits = 0x3FF | 0x200; // rwx for all + sticky (01777); 04000/02000 dropped

    private sealed class Root
    {
        public required string BaseDir;   // the destination as the caller named it (absolute)
        public required string Anchor;    // BaseDir if it exists, else its nearest existing ancestor
        public required string StageDir;  // Anchor/.s3pod-stage-XXXX (private, 0700)
        public required string NewDir;    // StageDir/n: mirrors Anchor
        public required string StageBase; // NewDir[/path from Anchor to BaseDir]: mirrors BaseDir
        public required string OldDir;    // StageDir/o: replaced destination files, until success
        public (long Sec, long Nsec) AnchorMtime;
        public readonly HashSet<string> Symlinks = new(StringComparer.Ordinal); // rel paths of staged symlinks
        public string? LastParent;        // last staged parent known to exist (skips a mkdir per entry)
        public int Replaced;
    }

    private readonly record struct DirMeta(Root Root, string Rel, int Mode, long Sec, long Nsec);

    private enum Step { Created, MovedAside }

    private readonly Func<string, (string BaseDir, string RelativePath)?> _locate;
    private readonly CancellationToken _ct;
    private readonly Dictionary<string, Root> _roots = new(StringComparer.Ordinal);
    private readonly List<DirMeta> _dirs = new();
    private readonly List<(Step Step, string From, string To)> _journal = new();
    private readonly byte[] _buffer = new byte[BufferSize];
    private long _files, _dirCount, _symlinks, _hardLinks, _bytes;

    private TarUnpacker(Func<string, (string, string)?> locate, CancellationToken ct)
    {
        _locate = locate;
        _ct = ct;
    }

    public static ArchiveStats Unpack(Stream input, Func<string, (string BaseDir, string RelativePath)?> locate, CancellationToken ct)
    {
        var unpacker = new TarUnpacker(locate, ct);
        bool ok = false;
        try
        {
            unpacker.ExtractAll(input);
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

    // ---------------------------------------------------------------- phase 1: stage

    private void ExtractAll(Stream input)
    {
        using var source = new ZstdSource(input);
        using var data = new ReadAheadStream(source.FillAsync, _ct);
        // Look at the first header before handing the stream to TarReader, so that a zstd stream holding
        // something else is reported as "not a tar.zst archive" rather than as a damaged one.
        byte[] first = new byte[512];
        int got = data.ReadAtLeast(first, first.Length, throwOnEndOfStream: false);
        if (got == 0) { DrainToEnd(data); return; } // an empty stream: an archive of nothing
        if (got < first.Length || !LooksLikeTarHeader(first))
            throw S3PodException.Integrity("not a tar.zst archive: the zstd stream does not hold a tar archive");
        using var reader = new TarReader(new PrefixedStream(first, got, data), leaveOpen: true);
        while (true)
        {
            _ct.ThrowIfCancellationRequested();
            TarEntry? entry;
            try
            {
                entry = reader.GetNextEntry(copyData: false);
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

    private void Extract(TarEntry entry)
    {
        string raw = entry.Name;
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes) return; // metadata only
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

        var (root, rel) = Locate(raw, raw, "its path is absolute or contains '..'");
        if (rel.Length == 0 && entry.EntryType != TarEntryType.Directory)
            throw Refuse(raw, "it would replace the destination directory itself");
        CheckNoSymlinkOnPath(root, rel, raw);
        string staged = rel.Length == 0 ? root.StageBase : Path.Join(root.StageBase, rel);
        if (rel.Length > 0) EnsureParent(root, rel, raw);

        var (sec, nsec) = ToUnix(entry.ModificationTime);
        int mode = (int)entry.Mode & KeptModeBits;
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (Posix.TryLstat(staged, out var st))
                {
                    if (st.Type != Posix.TypeDirectory) throw Refuse(raw, "it clashes with an earlier entry of another type");
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
                File.CreateSymbolicLink(staged, target);
                Posix.SetMtimeNoFollow(staged, sec, nsec);
                root.Symlinks.Add(rel);
                _symlinks++;
                break;

            case TarEntryType.HardLink:
                ExtractHardLink(entry, root, rel, staged, raw);
                break;

            default:
                PrepareNonDirectory(root, rel, staged, raw);
                ExtractFile(entry, root, rel, staged, mode, sec, nsec, raw);
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
        string stagedParent = Path.Join(root.StageBase, parent);
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
    private static void PrepareNonDirectory(Root root, string rel, string staged, string raw)
    {
        if (!Posix.TryLstat(staged, out var st)) return;
        if (st.Type == Posix.TypeDirectory) throw Refuse(raw, "it clashes with an earlier directory entry");
        File.Delete(staged);
        root.Symlinks.Remove(rel);
    }

    private void ExtractFile(TarEntry entry, Root root, string rel, string staged, int mode, long sec, long nsec, string raw)
    {
        string dest = Path.Join(root.BaseDir, rel);
        long written = 0;
        try
        {
            using var handle = File.OpenHandle(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            var dataStream = entry.DataStream;
            if (dataStream is not null)
            {
                while (true)
                {
                    int n;
                    try
                    {
                        n = dataStream.Read(_buffer);
                    }
                    catch (Exception e) when (IsFormatError(e))
                    {
                        throw Corrupt(e);
                    }
                    if (n == 0) break;
                    _ct.ThrowIfCancellationRequested();
                    RandomAccess.Write(handle, _buffer.AsSpan(0, n), written);
                    written += n;
                }
            }
            if (written != entry.Length)
                throw S3PodException.Integrity($"archive is truncated or corrupt (entry {EntryNames.Quote(raw)} is short)");
            Posix.Chmod(handle, mode, dest);
            Posix.SetMtime(handle, sec, nsec, dest); // after the data: writing sets mtime
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot write {dest}: {e.Message}", e);
        }
        _files++;
        _bytes += written;
    }

    private void ExtractHardLink(TarEntry entry, Root root, string rel, string staged, string raw)
    {
        const string badTarget = "hard link target is absolute or contains '..'";
        var (troot, trel) = Locate(entry.LinkName, raw, badTarget);
        if (trel.Length == 0) throw Refuse(raw, "hard link to a directory");
        CheckNoSymlinkOnPath(troot, trel, raw);
        string stagedTarget = Path.Join(troot.StageBase, trel);
        // Everything in staging came from this archive, so "exists in staging" means "an earlier entry".
        if (!Posix.TryLstat(stagedTarget, out var tst) || (tst.Type != Posix.TypeRegular && tst.Type != Posix.TypeSymlink))
            throw Refuse(raw, $"hard link target {EntryNames.Quote(entry.LinkName)} is not an earlier file of the archive");
        if (stagedTarget == staged) { _hardLinks++; return; } // a link to itself: nothing to do
        PrepareNonDirectory(root, rel, staged, raw);
        string dest = Path.Join(root.BaseDir, rel);
        int errno = Posix.Link(stagedTarget, staged);
        if (errno == Posix.EXDEV)
        {
            // Two destinations on different filesystems: a copy is the best a hard link can become.
            try
            {
                File.Copy(stagedTarget, staged);
                Posix.SetMtimeNoFollow(staged, tst.MtimeSec, tst.MtimeNsec);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw S3PodException.Operational($"cannot write {dest}: {e.Message}", e);
            }
        }
        else if (errno != 0)
        {
            throw S3PodException.Operational($"cannot create hard link {dest}: {Posix.Error(errno, dest).Message}");
        }
        if (tst.Type == Posix.TypeSymlink) root.Symlinks.Add(rel);
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
            if (File.Exists(anchor) || Posix.TryLstat(anchor, out _))
                throw S3PodException.Operational($"{anchor} exists and is not a directory");
            anchor = Path.GetDirectoryName(anchor) ?? throw S3PodException.Operational($"{full}: no existing parent directory");
        }
        string stageDir = Path.Join(anchor, ".s3pod-stage-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));
        var anchorStat = Posix.TryLstat(anchor, out var ast) ? ast : default;
        try
        {
            // New, so no one else can have put anything in it; 0700 keeps half-restored content private.
            if (Directory.Exists(stageDir)) throw new IOException($"{stageDir} already exists");
            Directory.CreateDirectory(stageDir);
            Posix.Chmod(stageDir, 0x1C0);
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
        };
        _roots[baseDir] = root; // registered first, so Cleanup removes it whatever happens next
        Directory.CreateDirectory(root.StageBase);
        Directory.CreateDirectory(root.OldDir);
        return root;
    }

    // ---------------------------------------------------------------- phase 2: check

    private void CheckDestinations()
    {
        foreach (var root in _roots.Values) Walk(root, root.NewDir, root.Anchor, commit: false);
    }

    // ---------------------------------------------------------------- phase 3: move into place

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
            Posix.TryLstat(s, out var sst);
            bool exists = Posix.TryLstat(d, out var dst2);
            string entry = Path.GetRelativePath(root.BaseDir, d);
            if (!exists)
            {
                if (commit) Move(Step.Created, s, d);
                continue;
            }
            if (sst.Type == Posix.TypeDirectory)
            {
                if (dst2.Type == Posix.TypeDirectory) Walk(root, s, d, commit);
                else if (dst2.Type == Posix.TypeSymlink)
                    throw Refuse(entry, $"the destination {d} is a symlink, and extracting through it could write anywhere");
                else
                    throw S3PodException.Operational($"cannot restore {EntryNames.Quote(entry)}: {d} exists and is not a directory");
            }
            else if (dst2.Type == Posix.TypeDirectory)
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
            Posix.Rename(from, to);
        }
        catch (PosixIOException e)
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
            try { Posix.Rename(to, from); } catch (IOException) { /* keep undoing the rest */ }
        }
        _journal.Clear();
    }

    private void ApplyDirectoryMetadata()
    {
        // Deepest first: setting a child's metadata does not touch its parent's mtime, but a read-only
        // parent must not be locked before its children are done.
        foreach (var d in _dirs.OrderByDescending(d => d.Rel.Length == 0 ? -1 : d.Rel.Count(c => c == '/')))
        {
            string path = d.Rel.Length == 0 ? d.Root.BaseDir : Path.Join(d.Root.BaseDir, d.Rel);
            try
            {
                Posix.Chmod(path, d.Mode);
                Posix.SetMtimeNoFollow(path, d.Sec, d.Nsec);
            }
            catch (IOException e)
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
                try { Posix.SetMtimeNoFollow(root.Anchor, root.AnchorMtime.Sec, root.AnchorMtime.Nsec); }
                catch (IOException) { }
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
