using System.Security.Cryptography;
using System.Text;
using S3Pod.Archive;
using S3Pod.Keys;

namespace S3Pod.Cache;

/// <summary>
/// Turns actions/cache-style <c>path</c> entries (files, directories, <c>~</c>, globs, <c>!exclusions</c>)
/// into archive inputs, and back into restore locations.
/// <para>
/// Archive entry names are anchored so a cache restores on another machine where the workspace or
/// home directory lives elsewhere: <c>w/…</c> is relative to the working directory, <c>h/…</c> to the
/// home directory, <c>r/…</c> to the filesystem root. A restore writes an entry only when it falls
/// inside one of the paths the restore asked for: a poisoned cache cannot reach ~/.bashrc.
/// </para>
/// </summary>
internal sealed class CachePaths
{
    private readonly string _cwd;
    private readonly string _home;
    private readonly List<string> _includes = new();
    private readonly List<Glob> _excludes = new();

    public CachePaths(IReadOnlyList<string> specs, string workingDirectory, string home)
    {
        _cwd = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workingDirectory));
        _home = Path.TrimEndingDirectorySeparator(Path.GetFullPath(home));
        Specs = specs.Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        if (Specs.Count == 0) throw S3PodException.Usage("no --path given");
        foreach (var spec in Specs)
        {
            if (spec.StartsWith('!'))
            {
                var pattern = spec[1..].Trim();
                if (pattern.Length == 0) throw S3PodException.Usage("--path '!' needs a pattern after the '!'");
                _excludes.Add(new Glob(Anchor(Absolute(pattern))));
            }
            else
            {
                var abs = Absolute(spec);
                if (abs == "/") throw S3PodException.Usage("refusing to cache the whole filesystem ('/')");
                _includes.Add(spec);
            }
        }
        if (_includes.Count == 0) throw S3PodException.Usage("every --path is an exclusion; nothing to cache");
    }

    /// <summary>The path list as given; a cache only matches a restore with the same list.</summary>
    public IReadOnlyList<string> Specs { get; }

    /// <summary>A short digest of the path list, part of every cache object's name.</summary>
    public string Version
    {
        get
        {
            var text = "s3pod-cache-v1\n" + string.Join('\n', Specs);
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
        }
    }

    private string Absolute(string spec)
    {
        if (spec == "~") return _home;
        if (spec.StartsWith("~/", StringComparison.Ordinal)) spec = Path.Combine(_home, spec[2..]);
        // Keep glob characters intact: GetFullPath only normalises separators and dots.
        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(spec, _cwd));
    }

    /// <summary>Absolute path → anchored archive name.</summary>
    internal string Anchor(string absolute)
    {
        if (absolute == _cwd) return "w";
        if (absolute.StartsWith(_cwd + "/", StringComparison.Ordinal)) return "w/" + absolute[(_cwd.Length + 1)..];
        if (absolute == _home) return "h";
        if (absolute.StartsWith(_home + "/", StringComparison.Ordinal)) return "h/" + absolute[(_home.Length + 1)..];
        return "r/" + absolute.TrimStart('/');
    }

    /// <summary>Anchored archive name → absolute path on this machine.</summary>
    internal string? Unanchor(string name)
    {
        var slash = name.IndexOf('/');
        var (anchor, rest) = slash < 0 ? (name, "") : (name[..slash], name[(slash + 1)..]);
        var baseDir = anchor switch { "w" => _cwd, "h" => _home, "r" => "/", _ => null };
        if (baseDir is null) return null;
        return rest.Length == 0 ? baseDir : Path.Combine(baseDir, rest);
    }

    public bool IsExcluded(string entryName)
    {
        if (_excludes.Count == 0) return false;
        // An excluded directory excludes everything below it.
        for (var name = entryName; ; )
        {
            foreach (var g in _excludes) if (g.IsMatch(name)) return true;
            var cut = name.LastIndexOf('/');
            if (cut <= 1) return false;
            name = name[..cut];
        }
    }

    /// <summary>What to archive: each existing path or glob match, anchored. Missing literal paths are
    /// reported to <paramref name="missing"/> (actions/cache warns about them too).</summary>
    public List<ArchiveInput> ArchiveInputs(Action<string> missing)
    {
        var inputs = new List<ArchiveInput>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string abs)
        {
            if (seen.Add(abs)) inputs.Add(new ArchiveInput(abs, Anchor(abs)));
        }
        foreach (var spec in _includes)
        {
            var abs = Absolute(spec);
            if (!Glob.IsPattern(spec))
            {
                if (File.Exists(abs) || Directory.Exists(abs) || new FileInfo(abs).LinkTarget is not null) Add(abs);
                else missing(spec);
                continue;
            }
            var before = inputs.Count;
            foreach (var match in GlobMatches(abs)) Add(match);
            if (inputs.Count == before) missing(spec);
        }
        // A path inside another listed path would be stored twice.
        inputs.RemoveAll(i => inputs.Any(o => !ReferenceEquals(o, i) && i.SourcePath.StartsWith(o.SourcePath + "/", StringComparison.Ordinal)));
        return inputs;
    }

    /// <summary>Files and directories matching an absolute glob; a matching directory is taken whole.</summary>
    private static IEnumerable<string> GlobMatches(string absolutePattern)
    {
        var glob = new Glob(absolutePattern.TrimStart('/'));
        var literal = Glob.LiteralBase(glob.Pattern);
        var start = "/" + literal;
        if (!Directory.Exists(start)) yield break;
        var stack = new Stack<string>();
        stack.Push(start);
        while (stack.Count > 0)
        {
            var dir = stack.Pop();
            IEnumerable<FileSystemInfo> children;
            try
            {
                children = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true });
            }
            catch (IOException) { continue; }
            foreach (var child in children.OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                var rel = child.FullName.TrimStart('/');
                if (glob.IsMatch(rel)) { yield return child.FullName; continue; }
                if (child is DirectoryInfo && child.LinkTarget is null) stack.Push(child.FullName);
            }
        }
    }

    /// <summary>Where restores may write: the listed paths, or for a glob its fixed leading directory.</summary>
    private List<string> RestoreRoots() => _includes.Select(spec =>
    {
        var abs = Absolute(spec);
        return Glob.IsPattern(spec) ? "/" + Glob.LiteralBase(abs.TrimStart('/')) : abs;
    }).ToList();

    /// <summary>The extractor's locate function: entry → (base directory, path below it), or null to refuse.</summary>
    public Func<string, (string BaseDir, string RelativePath)?> Locator()
    {
        var roots = RestoreRoots();
        return name =>
        {
            var target = Unanchor(name.TrimEnd('/'));
            if (target is null) return null;
            foreach (var root in roots)
            {
                if (target != root && !target.StartsWith(root == "/" ? "/" : root + "/", StringComparison.Ordinal)) continue;
                var parent = Path.GetDirectoryName(root);
                if (parent is null) return null;
                return (parent, Path.GetRelativePath(parent, target).Replace('\\', '/'));
            }
            return null;
        };
    }
}
