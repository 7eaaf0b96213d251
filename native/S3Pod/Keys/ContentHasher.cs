using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using S3Pod.Archive;

namespace S3Pod.Keys;

/// <summary>
/// The digest behind <c>{hash}</c>. It depends only on contents and on paths relative to what was
/// named, never on where the checkout lives, so two runners with different workspaces or homes get
/// the same key for the same tree. Each input has its own digest:
/// <list type="bullet">
/// <item>a regular file: its sha256 (<c>sha256sum FILE</c>);</item>
/// <item>a directory: the sha256 of the <c>sha256sum</c> listing of its regular files, named relative
/// to that directory, sorted bytewise;</item>
/// <item>a glob: the same listing of its matches, named relative to the working directory (relative
/// to the pattern's literal leading directory when the pattern is absolute).</item>
/// </list>
/// One input's digest is the digest; several inputs give the sha256 of their digests, one hex line
/// each, in the order given. Symlinks below a directory or met by a glob are neither followed nor
/// recorded (their targets often name runner-specific paths); a named input that is a symlink is
/// followed. The README section "The key digest, exactly" gives a coreutils line for each case.
/// </summary>
internal static class ContentHasher
{
    private static readonly IFileSystem OsFileSystem = FileSystems.Select(null);

    /// <summary>The entry point of <c>key</c>; see <see cref="Digest"/>.</summary>
    public static Task<string> DigestAsync(IReadOnlyList<string> inputs, string workingDirectory, CancellationToken ct) =>
        Task.FromResult(Digest(inputs, workingDirectory, ct));

    /// <summary>
    /// Synchronous on purpose: the usual key is one small lockfile, and hashing it on the calling
    /// thread starts no thread pool, which was most of <c>key</c>'s own start-up time (bench/RESULTS.md).
    /// Several files are hashed on every core.
    /// </summary>
    public static string Digest(IReadOnlyList<string> inputs, string workingDirectory, CancellationToken ct)
    {
        if (inputs.Count == 0) throw S3PodException.Usage("no --hash-from input given");
        var expanded = inputs.Select(input => Expand(input, workingDirectory)).ToList();

        var files = expanded.SelectMany(e => e.Files).ToArray();
        var hashes = new string[files.Length];
        if (files.Length == 1)
        {
            hashes[0] = HashFile(files[0], ct);
        }
        else
        {
            // On a warm cache this is CPU-bound, on a cold one it keeps the disk queue full.
            try
            {
                Parallel.For(0, files.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount), CancellationToken = ct },
                    i => hashes[i] = HashFile(files[i], ct));
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<S3PodException>().FirstOrDefault() is { } first)
            {
                throw first;
            }
        }

        var digests = new List<string>(expanded.Count);
        int next = 0;
        foreach (var input in expanded)
        {
            digests.Add(input.IsSingleFile ? hashes[next] : ListingDigest(input.Files, hashes.AsSpan(next, input.Files.Count)));
            next += input.Files.Count;
        }
        if (digests.Count == 1) return digests[0];
        return Sha256Hex(string.Concat(digests.Select(d => d + "\n")));
    }

    /// <summary>sha256 of the <c>sha256sum</c> listing of the files, in the order given.</summary>
    private static string ListingDigest(IReadOnlyList<HashedFile> files, ReadOnlySpan<string> hashes)
    {
        var listing = new StringBuilder();
        for (int i = 0; i < files.Count; i++) listing.Append(SumLine(hashes[i], files[i].Name));
        return Sha256Hex(listing.ToString());
    }

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>One line exactly as GNU sha256sum (coreutils 9) prints it: a name containing '\', a
    /// newline or a carriage return is escaped and the line starts with '\'.</summary>
    internal static string SumLine(string hex, string name)
    {
        if (name.AsSpan().IndexOfAny('\\', '\n', '\r') >= 0)
            return $"\\{hex}  {name.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r")}\n";
        return $"{hex}  {name}\n";
    }

    /// <summary>
    /// The files behind one input, named as they appear in its listing and sorted bytewise.
    /// An input that exists is that path even if it contains wildcard characters (<c>app/[id]</c>);
    /// otherwise wildcards make it a glob.
    /// </summary>
    internal static ExpandedInput Expand(string input, string workingDirectory)
    {
        if (input.Length == 0) throw S3PodException.Usage("--hash-from '': the path is empty");
        var path = Path.GetFullPath(input, workingDirectory);
        if (Directory.Exists(path))
        {
            var files = WalkFiles(path, input).Select(rel => new HashedFile(rel, Path.Combine(path, rel), Path.Join(input, rel))).ToList();
            files.Sort((a, b) => Utf8Ordinal(a.Name, b.Name));
            return new ExpandedInput(IsSingleFile: false, files);
        }
        if (File.Exists(path))
        {
            if (!IsRegularFile(path, followLinks: true, input))
                throw S3PodException.Usage($"--hash-from '{input}': not a regular file or directory");
            return new ExpandedInput(IsSingleFile: true, [new HashedFile(input, path, input)]);
        }
        if (input.StartsWith('!'))
            throw S3PodException.Usage($"--hash-from '{input}': exclusions ('!') are not supported here; use a narrower pattern");
        if (Glob.IsPattern(input))
        {
            var matches = GlobFiles(input, workingDirectory).ToList();
            if (matches.Count == 0) throw S3PodException.Usage($"--hash-from '{input}' matched no files");
            matches.Sort((a, b) => Utf8Ordinal(a.Name, b.Name));
            return new ExpandedInput(IsSingleFile: false, matches);
        }
        throw S3PodException.Usage($"--hash-from '{input}': no such file or directory");
    }

    /// <summary>
    /// Regular files below <paramref name="dir"/>, relative and '/'-separated, as <c>find -type f</c>
    /// lists them: symlinks are neither followed nor listed, FIFOs, sockets and devices are skipped.
    /// </summary>
    internal static IEnumerable<string> WalkFiles(string dir, string inputForErrors)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
        var stack = new Stack<string>();
        stack.Push("");
        while (stack.Count > 0)
        {
            var rel = stack.Pop();
            var full = rel.Length == 0 ? dir : Path.Combine(dir, rel);
            List<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(full).EnumerateFileSystemInfos("*", options).ToList();
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                var shown = rel.Length == 0 ? "" : " " + rel;
                throw S3PodException.Usage($"--hash-from '{inputForErrors}': cannot read directory{shown}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}");
            }
            foreach (var e in entries)
            {
                var childRel = rel.Length == 0 ? e.Name : rel + "/" + e.Name;
                if (e.Attributes.HasFlag(FileAttributes.ReparsePoint)) continue;
                if (e is DirectoryInfo) stack.Push(childRel);
                else if (IsRegularFile(e.FullName, followLinks: false, inputForErrors, ((FileInfo)e).Length)) yield return childRel;
            }
        }
    }

    /// <summary>
    /// Matches of a glob, named relative to the working directory, or to the pattern's literal leading
    /// directory when the pattern is absolute (so <c>"$PWD/**/go.sum"</c> names files as <c>**/go.sum</c> does).
    /// </summary>
    internal static IEnumerable<HashedFile> GlobFiles(string pattern, string workingDirectory)
    {
        var glob = new Glob(pattern.StartsWith("./", StringComparison.Ordinal) ? pattern[2..] : pattern);
        var literalBase = Glob.LiteralBase(glob.Pattern);
        var absolute = Path.IsPathRooted(glob.Pattern);
        // Matching is on the path as the pattern spells it: "a/b/x", "../x", "/abs/x".
        var prefix = absolute || literalBase.Length > 0 ? literalBase + "/" : "";
        var baseDir = Path.GetFullPath(prefix.Length == 0 ? "." : prefix, workingDirectory);
        if (!Directory.Exists(baseDir)) yield break;
        foreach (var rel in WalkFiles(baseDir, pattern))
        {
            var matched = prefix + rel;
            if (!glob.IsMatch(matched)) continue;
            var name = absolute ? rel : matched;
            yield return new HashedFile(name, Path.Combine(baseDir, rel), matched);
        }
    }

    /// <summary>
    /// .NET cannot tell a FIFO or a device from a regular file, and opening a FIFO blocks, so lstat
    /// decides. Every non-regular file reports size 0, so only empty entries need the extra call.
    /// A named input is followed through symlinks (a dangling or looping one is not a file).
    /// The OS's own file-system layer answers (statx on Linux, lstat on macOS, file attributes on Windows).
    /// </summary>
    private static bool IsRegularFile(string path, bool followLinks, string inputForErrors, long length = 0)
    {
        if (length > 0) return true;
        var target = path;
        if (followLinks)
        {
            try
            {
                target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
            }
            catch (IOException e)
            {
                throw S3PodException.Usage($"--hash-from '{inputForErrors}': {e.Message}");
            }
        }
        if (OsFileSystem.TryGetInfo(target, out var info)) return info.Kind == EntryKind.Regular;
        // Gone since it was listed: a walk skips it, a named input was a symlink to nothing.
        if (!followLinks) return false;
        throw S3PodException.Usage($"--hash-from '{inputForErrors}': no such file or directory (a symlink to nothing)");
    }

    private static string HashFile(HashedFile file, CancellationToken ct)
    {
        try
        {
            using var handle = File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(ReadChunk);
            try
            {
                long offset = 0;
                int read;
                while ((read = RandomAccess.Read(handle, buffer.AsSpan(0, ReadChunk), offset)) > 0)
                {
                    ct.ThrowIfCancellationRequested();
                    sha256.AppendData(buffer, 0, read);
                    offset += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return Convert.ToHexStringLower(sha256.GetHashAndReset());
        }
        catch (UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"--hash-from: cannot read {file.DisplayName}: permission denied");
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw S3PodException.Usage($"--hash-from: cannot read {file.DisplayName}: it vanished while hashing");
        }
    }

    private const int ReadChunk = 256 << 10;

    /// <summary>Bytewise order of the UTF-8 encodings, which is what `LC_ALL=C sort` does.</summary>
    internal static int Utf8Ordinal(string a, string b) =>
        Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
}

/// <summary>One regular file to hash: <see cref="Name"/> is what its listing line says,
/// <see cref="DisplayName"/> what an error message shows (the input as given, joined with the name).</summary>
internal sealed record HashedFile(string Name, string FullPath, string DisplayName);

/// <summary>One <c>--hash-from</c> input: a single file (its digest is the file's sha256) or the
/// sorted files of a directory or glob (its digest is their listing's sha256).</summary>
internal sealed record ExpandedInput(bool IsSingleFile, IReadOnlyList<HashedFile> Files);
