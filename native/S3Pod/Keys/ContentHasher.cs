using System.Security.Cryptography;
using System.Text;

namespace S3Pod.Keys;

/// <summary>
/// The digest behind <c>{hash}</c>, defined so coreutils can reproduce it:
/// <list type="bullet">
/// <item>one input that is a regular file: its sha256, i.e. <c>sha256sum FILE</c>;</item>
/// <item>anything else (several inputs, directories, globs): every input is expanded to regular files
/// (a directory to all regular files below it, symlinks not followed; a glob to its matches, paths
/// relative to the working directory), the list is sorted bytewise and de-duplicated, and the digest is
/// the sha256 of the <c>sha256sum</c> listing of those files:
/// <c>find INPUTS -type f -print0 | LC_ALL=C sort -zu | xargs -0 sha256sum | sha256sum</c>.</item>
/// </list>
/// </summary>
internal static class ContentHasher
{
    public static async Task<string> DigestAsync(IReadOnlyList<string> inputs, string workingDirectory, CancellationToken ct)
    {
        if (inputs.Count == 0) throw S3PodException.Usage("no --hash-from input given");
        if (inputs.Count == 1 && !Glob.IsPattern(inputs[0]))
        {
            var only = Resolve(inputs[0], workingDirectory);
            if (File.Exists(only) && !Directory.Exists(only))
                return Convert.ToHexStringLower(await HashFileAsync(only, inputs[0], ct));
        }

        var files = Expand(inputs, workingDirectory);
        var hashes = new byte[files.Count][];
        // Hash on every core: on a warm cache this is CPU-bound, on a cold one it keeps the disk queue full.
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount), CancellationToken = ct },
            async (i, token) => hashes[i] = await HashFileAsync(Resolve(files[i], workingDirectory), files[i], token));

        var listing = new StringBuilder();
        for (int i = 0; i < files.Count; i++) listing.Append(SumLine(Convert.ToHexStringLower(hashes[i]), files[i]));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())));
    }

    /// <summary>One line exactly as GNU sha256sum prints it, including its escaping of '\' and newlines.</summary>
    internal static string SumLine(string hex, string name)
    {
        if (name.Contains('\\') || name.Contains('\n'))
            return $"\\{hex}  {name.Replace("\\", "\\\\").Replace("\n", "\\n")}\n";
        return $"{hex}  {name}\n";
    }

    /// <summary>Expands inputs to the sorted, de-duplicated list of file names `find` would print.</summary>
    internal static List<string> Expand(IReadOnlyList<string> inputs, string workingDirectory)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (Glob.IsPattern(input))
            {
                var matches = GlobFiles(input, workingDirectory).ToList();
                if (matches.Count == 0) throw S3PodException.Usage($"--hash-from '{input}' matched no files");
                names.UnionWith(matches);
                continue;
            }
            var path = Resolve(input, workingDirectory);
            var name = input.Length > 1 ? input.TrimEnd('/') : input;
            if (Directory.Exists(path))
            {
                foreach (var f in WalkFiles(path)) names.Add(name + "/" + f);
            }
            else if (File.Exists(path))
            {
                names.Add(name);
            }
            else
            {
                throw S3PodException.Usage($"--hash-from '{input}': no such file or directory");
            }
        }
        var list = names.ToList();
        list.Sort(Utf8Ordinal);
        return list;
    }

    /// <summary>Regular files below <paramref name="dir"/>, relative and '/'-separated; symlinks are not followed (find -type f).</summary>
    internal static IEnumerable<string> WalkFiles(string dir)
    {
        var stack = new Stack<string>();
        stack.Push("");
        while (stack.Count > 0)
        {
            var rel = stack.Pop();
            var full = rel.Length == 0 ? dir : Path.Combine(dir, rel);
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(full).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false });
            }
            catch (UnauthorizedAccessException)
            {
                throw S3PodException.Usage($"cannot read directory {full}: permission denied");
            }
            foreach (var e in entries)
            {
                var childRel = rel.Length == 0 ? e.Name : rel + "/" + e.Name;
                if (e.LinkTarget is not null) continue;
                if (e is DirectoryInfo) stack.Push(childRel);
                else yield return childRel;
            }
        }
    }

    internal static IEnumerable<string> GlobFiles(string pattern, string workingDirectory)
    {
        var glob = new Glob(pattern.StartsWith("./", StringComparison.Ordinal) ? pattern[2..] : pattern);
        var literalBase = Glob.LiteralBase(glob.Pattern);
        var baseDir = Resolve(literalBase.Length == 0 ? "." : literalBase, workingDirectory);
        if (!Directory.Exists(baseDir)) yield break;
        foreach (var rel in WalkFiles(baseDir))
        {
            var name = literalBase.Length == 0 ? rel : literalBase + "/" + rel;
            if (glob.IsMatch(name)) yield return name;
        }
    }

    private static string Resolve(string path, string workingDirectory) => Path.GetFullPath(path, workingDirectory);

    private static async Task<byte[]> HashFileAsync(string path, string displayName, CancellationToken ct)
    {
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return await SHA256.HashDataAsync(stream, ct);
        }
        catch (UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"cannot read {displayName}: permission denied");
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw S3PodException.Usage($"cannot read {displayName}: no such file");
        }
    }

    /// <summary>Bytewise order of the UTF-8 encodings, which is what `LC_ALL=C sort` does.</summary>
    internal static readonly Comparison<string> Utf8Ordinal = (a, b) =>
        Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));
}
