using System.Formats.Tar;
using System.IO.Enumeration;
using System.Security.Cryptography;
using System.Text;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace S3Pod.Archive;

/// <summary>
/// The write side: walks the inputs depth-first (a directory's entry before its contents, children in
/// ordinal order so equal trees give equal archives) and streams PAX tar into a multithreaded zstd
/// encoder. Memory is bounded: one file is open at a time, its data moves in 1 MiB reads, and the
/// only state that grows is the table of multiply-linked inodes and the directory stack.
/// Runs synchronously on its own thread (see <see cref="TarZstd.PackAsync"/>): per-file async I/O would
/// cost a thread-pool hop per read, which dominates on trees of many small files.
/// The archive's bytes are not a content identity: PAX records carry mtimes, and .NET names each
/// extended header <c>PaxHeaders.&lt;process id&gt;</c>. Where "same content" matters (an artifact
/// head against its latest version) the packer can also compute a tree digest; see <see cref="TreeDigest"/>.
/// </summary>
internal sealed class TarPacker
{
    private const int BufferSize = 1 << 20;

    private readonly IFileSystem _fs;
    private readonly Func<string, bool>? _exclude;
    private readonly CancellationToken _ct;
    private readonly byte[] _copyBuffer = new byte[BufferSize];
    // Identity of regular files with more than one link -> the entry name they were first stored under.
    private readonly Dictionary<FileIdentity, string> _links = new();
    private TarWriter _tar = null!;
    private IncrementalHash? _tree;
    private long _files, _dirs, _symlinks, _hardLinks, _bytes, _skipped, _entries;

    private TarPacker(IFileSystem fs, Func<string, bool>? exclude, CancellationToken ct)
    {
        _fs = fs;
        _exclude = exclude;
        _ct = ct;
    }

    /// <param name="treeDigest">Also compute <see cref="ArchiveStats.TreeDigest"/> (one more sha256 pass over the data).</param>
    public static ArchiveStats Pack(IFileSystem fs, IReadOnlyList<ArchiveInput> inputs, Stream output, int level, Func<string, bool>? exclude, CancellationToken ct,
        bool treeDigest = false)
    {
        foreach (var input in inputs)
        {
            if (!Path.IsPathFullyQualified(input.SourcePath))
                throw new ArgumentException($"source path must be absolute: {input.SourcePath}", nameof(inputs));
            if (input.EntryName.Length > 0 && !EntryNames.IsCanonicalRelative(input.EntryName))
                throw new ArgumentException($"entry name must be relative and canonical: {input.EntryName}", nameof(inputs));
        }

        var packer = new TarPacker(fs, exclude, ct);
        using var tree = treeDigest ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        packer._tree = tree;
        var guard = new GuardedOutputStream(output, ct);
        // Level 0 (TarZstd.Uncompressed): the plain tar stream, for the chunk store, which cuts and
        // compresses it itself.
        var zstd = level == TarZstd.Uncompressed ? new NonClosingStream(new StablePaxNames(guard)) : ZstdEncoder.Create(guard, level, BufferSize);
        bool ok = false;
        try
        {
            // Coalesces TarWriter's small header writes (512 B blocks, PAX records) into large encoder calls.
            var buffered = new BufferedStream(zstd, BufferSize);
            packer._tar = new TarWriter(buffered, TarEntryFormat.Pax, leaveOpen: true);
            foreach (var input in inputs) packer.AddInput(input);
            ct.ThrowIfCancellationRequested();
            // TarWriter ends the archive with two zero blocks only if it wrote an entry; an empty
            // tree must still give a valid (empty) tar, which GNU tar accepts.
            if (packer._entries == 0) buffered.Write(new byte[1024]);
            packer._tar.Dispose(); // writes the two zero blocks that end a tar
            buffered.Flush();
            zstd.Dispose(); // ends the frame, content checksum included
            guard.Flush();
            ok = true;
        }
        finally
        {
            if (!ok)
            {
                // No `using` above on purpose: disposing the tar writer or the encoder after a failure
                // would append an end-of-archive and finish the frame, making a cut-short archive look
                // whole. Poison the output first; the encoder is still disposed to stop its workers.
                guard.Poison();
                try { zstd.Dispose(); } catch (Exception) { /* already failing; the first error wins */ }
            }
        }
        return new ArchiveStats(packer._files, packer._dirs, packer._symlinks, packer._hardLinks, packer._bytes, packer._skipped,
            tree is null ? null : Convert.ToHexStringLower(tree.GetHashAndReset()));
    }

    private void AddInput(ArchiveInput input)
    {
        string path = Path.TrimEndingDirectorySeparator(input.SourcePath);
        if (!Stat(path, out var st))
            throw S3PodException.Operational($"{input.SourcePath}: no such file or directory");
        if (input.EntryName.Length == 0)
        {
            if (st.Kind != EntryKind.Directory)
                throw S3PodException.Operational($"{input.SourcePath}: not a directory");
            AddDirectoryContents(path, "");
            return;
        }
        if (_exclude?.Invoke(input.EntryName) == true) return;
        AddEntry(path, input.EntryName, st);
    }

    private bool Stat(string path, out FileEntryInfo st)
    {
        try
        {
            return _fs.TryGetInfo(path, out st);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot read {path}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}", e);
        }
    }

    private void AddEntry(string path, string name, in FileEntryInfo st)
    {
        _ct.ThrowIfCancellationRequested();
        switch (st.Kind)
        {
            case EntryKind.Directory:
                Write(NewEntry(TarEntryType.Directory, name + "/", st), st);
                _dirs++;
                AddDirectoryContents(path, name);
                break;
            case EntryKind.Regular:
                AddFile(path, name, st);
                break;
            case EntryKind.Symlink:
                string target;
                try
                {
                    target = _fs.ReadLink(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw S3PodException.Operational($"cannot read symlink {path}: {e.Message}", e);
                }
                Write(With(NewEntry(TarEntryType.SymbolicLink, name, st), link: target), st);
                _symlinks++;
                break;
            default:
                // Sockets, FIFOs and devices are not cache content, and extraction refuses the last two:
                // leave them out rather than write an archive that s3pod itself would reject.
                _skipped++;
                break;
        }
    }

    private void AddFile(string path, string name, in FileEntryInfo st)
    {
        if (st.LinkCount > 1)
        {
            if (_links.TryGetValue(st.Identity, out var first))
            {
                Write(With(NewEntry(TarEntryType.HardLink, name, st), link: first), st);
                _hardLinks++;
                return;
            }
            _links[st.Identity] = name;
        }
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot read {path}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}", e);
        }
        using var data = new FileDataStream(handle, st.Size, path, _copyBuffer, _ct, _tree);
        Write(With(NewEntry(TarEntryType.RegularFile, name, st), data: data), st);
        _files++;
        _bytes += st.Size;
    }

    /// <summary>
    /// A PAX entry whose atime and ctime records are its mtime. Left unset, .NET writes the time of
    /// the pack into every header, so two packs of one unchanged tree differ in every header — which
    /// would defeat the chunk store's deduplication (and make archives needlessly unreproducible).
    /// </summary>
    private static PaxTarEntry NewEntry(TarEntryType type, string name, in FileEntryInfo st)
    {
        // To the 100 ns the mtime record keeps (ModificationTime): a restored file, whose mtime was set
        // from that record, then packs to the same header as the original.
        var time = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{st.MtimeSec}.{st.MtimeNsec / 100 * 100:D9}");
        return new PaxTarEntry(type, name, new Dictionary<string, string> { ["atime"] = time, ["ctime"] = time });
    }

    private static PaxTarEntry With(PaxTarEntry entry, string? link = null, Stream? data = null)
    {
        if (link is not null) entry.LinkName = link;
        if (data is not null) entry.DataStream = data;
        return entry;
    }

    private void Write(PaxTarEntry entry, in FileEntryInfo st)
    {
        // Setuid/setgid bits are stored as found (tar does); extraction drops them.
        entry.Mode = (UnixFileMode)st.Permissions;
        entry.Uid = (int)st.Uid;
        entry.Gid = (int)st.Gid;
        entry.ModificationTime = DateTimeOffset.FromUnixTimeSeconds(st.MtimeSec).AddTicks(st.MtimeNsec / 100);
        // The entry's line goes into the tree digest before its data (which WriteEntry reads).
        _tree?.AppendData(TreeLine(entry, st));
        _tar.WriteEntry(entry);
        _entries++;
    }

    private void AddDirectoryContents(string dir, string prefix)
    {
        // Depth-first with an explicit stack: trees deeper than the thread's stack allows are legal.
        var stack = new Stack<(string Dir, string Prefix, string[] Children, int Next)>();
        stack.Push((dir, prefix, ListChildren(dir), 0));
        while (stack.Count > 0)
        {
            var (d, p, children, next) = stack.Pop();
            if (next >= children.Length) continue;
            stack.Push((d, p, children, next + 1));
            string childPath = Path.Join(d, children[next]);
            string childName = EntryNames.Join(p, children[next]);
            if (_exclude?.Invoke(childName) == true) continue;
            // Windows opens "CON.txt" as the console device and a name with a trailing dot as another
            // file: such a name cannot be read back by its path, nor restored there. Say which file.
            if (_fs.RefuseName(children[next]) is { } why)
                throw S3PodException.Operational($"cannot archive {childPath}: {why}; rename it, or leave it out with an exclusion (--path '!...')");
            if (!Stat(childPath, out var st)) continue; // deleted since it was listed
            if (st.Kind == EntryKind.Directory)
            {
                _ct.ThrowIfCancellationRequested();
                Write(NewEntry(TarEntryType.Directory, childName + "/", st), st);
                _dirs++;
                stack.Push((childPath, childName, ListChildren(childPath), 0));
            }
            else
            {
                AddEntry(childPath, childName, st);
            }
        }
    }

    /// <summary>
    /// One entry of the tree digest: <c>TYPE MODE SIZE NAME\0LINK\n</c> (type as the tar type flag,
    /// mode in octal, the size of a regular file's data, which follows the line), in archive order,
    /// which is deterministic. Modes, names, link targets and bytes count; mtimes and owners do not,
    /// so the same files rebuilt later give the same digest.
    /// </summary>
    private static byte[] TreeLine(PaxTarEntry entry, in FileEntryInfo st)
    {
        long size = entry.EntryType == TarEntryType.RegularFile ? st.Size : 0;
        return Encoding.UTF8.GetBytes($"{(char)entry.EntryType} {Convert.ToString(st.Permissions, 8)} {size} {entry.Name}\0{entry.LinkName}\n");
    }

    private static readonly EnumerationOptions ListOptions = new()
    {
        // The default skips "hidden" (dot) files on Unix; a cache must keep them.
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    private static string[] ListChildren(string dir)
    {
        try
        {
            var names = new FileSystemEnumerable<string>(dir, (ref FileSystemEntry e) => e.FileName.ToString(), ListOptions).ToArray();
            Array.Sort(names, StringComparer.Ordinal);
            return names;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot read directory {dir}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}", e);
        }
    }
}

/// <summary>Passes writes through; disposing it does not dispose the inner stream (the raw-tar mode of
/// <see cref="TarPacker"/>, where "ending the frame" is a no-op).</summary>
internal sealed class NonClosingStream(Stream inner) : WriteOnlyStream
{
    public override void Flush() => inner.Flush();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
}
