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
    // Paths are kept in "slash form": absolute, '/'-separated ("/home/u/x" on Unix, "C:/Users/u/x" on
    // Windows), so anchoring, globs and the restore check are one code for both, and an entry saved on
    // one OS names the same workspace-relative files on the other.
    private readonly bool _windows;
    private readonly StringComparison _cmp;
    private readonly string _cwd;
    private readonly string _home;
    private readonly List<string> _includes = new();
    private readonly List<Glob> _excludes = new();

    public CachePaths(IReadOnlyList<string> specs, string workingDirectory, string home)
    {
        var windows = _windows = OperatingSystem.IsWindows();
        // NTFS compares names without case: C:\Work and c:\work are one workspace.
        _cmp = windows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        _cwd = Slash(Path.TrimEndingDirectorySeparator(Path.GetFullPath(workingDirectory)));
        _home = Slash(Path.TrimEndingDirectorySeparator(Path.GetFullPath(home)));
        // On Windows '\' and '/' are one separator: `build\out` and `build/out` are one path list,
        // so a Windows job and a Linux job listing the same workspace paths share entries.
        Specs = specs.Select(s => s.Trim()).Where(s => s.Length > 0).Select(s => windows ? s.Replace('\\', '/') : s).ToList();
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
                if (IsFileSystemRoot(abs)) throw S3PodException.Usage($"refusing to cache the whole filesystem ('{spec}')");
                // A share (\\server\share) has no drive letter for the r/ anchor to record.
                if (abs.StartsWith("//", StringComparison.Ordinal) && Anchor(abs).StartsWith("r/", StringComparison.Ordinal))
                    throw S3PodException.Usage($"--path '{spec}': a network path outside the workspace and home directory cannot be cached; map it to a drive letter");
                _includes.Add(spec);
            }
        }
        if (_includes.Count == 0) throw S3PodException.Usage("every --path is an exclusion; nothing to cache");
    }

    /// <summary>The path list as given (on Windows with '/' for '\'); a cache only matches a restore with the same list.</summary>
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

    private string Slash(string path) => _windows ? path.Replace('\\', '/') : path;

    private string Native(string slashPath) => _windows ? slashPath.Replace('/', '\\') : slashPath;

    private bool IsFileSystemRoot(string abs) =>
        abs == "/" || (_windows && abs.Length == 3 && char.IsAsciiLetter(abs[0]) && abs[1] == ':' && abs[2] == '/');

    /// <summary>A path relative to the file-system root ("opt/x", "C:/x") back to slash form.</summary>
    private string FromRoot(string rel) => !_windows ? "/" + rel : rel.EndsWith(':') ? rel + "/" : rel;

    private string Absolute(string spec)
    {
        if (spec == "~") return _home;
        if (spec.StartsWith("~/", StringComparison.Ordinal)) spec = _home + "/" + spec[2..];
        // Resolved here rather than by Path.GetFullPath, which keeps glob characters but on Windows
        // turns "src/CON.txt" into the console device "\\.\CON" and drops trailing dots.
        var s = Slash(spec);
        string full;
        if (!_windows) full = s.StartsWith('/') ? s : _cwd + "/" + s;
        else if (s.Length >= 3 && char.IsAsciiLetter(s[0]) && s[1] == ':' && s[2] == '/') full = s;
        else if (s.StartsWith("//", StringComparison.Ordinal)) full = s;
        else if (s.StartsWith('/')) full = RootOf(_cwd).TrimEnd('/') + s; // the working directory's drive
        else if (s.Length >= 2 && s[1] == ':') full = Slash(Path.GetFullPath(spec, Native(_cwd))); // "C:x": that drive's own directory
        else full = _cwd + "/" + s;
        return Collapse(full);
    }

    /// <summary>The root of a slash-form path: "/", "C:/" or "//server/share/".</summary>
    private string RootOf(string full)
    {
        if (!_windows) return "/";
        if (full.StartsWith("//", StringComparison.Ordinal))
        {
            var parts = full[2..].Split('/');
            return "//" + parts[0] + "/" + (parts.Length > 1 ? parts[1] + "/" : "");
        }
        return full.Length >= 3 && full[1] == ':' && full[2] == '/' ? full[..3] : "/";
    }

    /// <summary>Removes "." and empty segments and resolves ".." (never above the root); no trailing '/'.</summary>
    private string Collapse(string full)
    {
        var root = RootOf(full);
        var segments = new List<string>();
        foreach (var part in full[root.Length..].Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..") { if (segments.Count > 0) segments.RemoveAt(segments.Count - 1); continue; }
            segments.Add(part);
        }
        if (segments.Count == 0) return root.Length > 3 ? root.TrimEnd('/') : root;
        return root + string.Join('/', segments);
    }

    private bool IsUnder(string path, string dir) =>
        path.StartsWith(dir.EndsWith('/') ? dir : dir + "/", _cmp);

    private static string Below(string path, string dir) => path[(dir.EndsWith('/') ? dir.Length : dir.Length + 1)..];

    /// <summary>Absolute path (slash form) → anchored archive name: "w/src" for the workspace's src on
    /// every OS; outside the workspace and home "r/opt/x" (Unix) or "r/C:/x" (Windows).</summary>
    internal string Anchor(string absolute)
    {
        if (absolute.Equals(_cwd, _cmp)) return "w";
        if (IsUnder(absolute, _cwd)) return "w/" + Below(absolute, _cwd);
        if (absolute.Equals(_home, _cmp)) return "h";
        if (IsUnder(absolute, _home)) return "h/" + Below(absolute, _home);
        return "r/" + absolute.TrimStart('/');
    }

    /// <summary>Anchored archive name → absolute path (slash form) on this machine, or null for an
    /// unknown anchor (and on Windows an r/ name without a drive letter: one saved on Unix).</summary>
    internal string? Unanchor(string name)
    {
        var slash = name.IndexOf('/');
        var (anchor, rest) = slash < 0 ? (name, "") : (name[..slash], name[(slash + 1)..]);
        string? baseDir = anchor switch { "w" => _cwd, "h" => _home, "r" => FromRoot(""), _ => null };
        if (anchor == "r" && _windows)
        {
            if (rest.Length < 2 || !char.IsAsciiLetter(rest[0]) || rest[1] != ':' || (rest.Length > 2 && rest[2] != '/')) return null;
            return FromRoot(rest);
        }
        if (baseDir is null) return null;
        return rest.Length == 0 ? baseDir : baseDir.EndsWith('/') ? baseDir + rest : baseDir + "/" + rest;
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
        var found = new List<string>();
        var seen = new HashSet<string>(_windows ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        void Add(string abs)
        {
            if (seen.Add(abs)) found.Add(abs);
        }
        foreach (var spec in _includes)
        {
            var abs = Absolute(spec);
            if (!Glob.IsPattern(spec))
            {
                var native = Native(abs);
                if (_windows && FileNameRules.RefuseOnWindows(abs[(abs.LastIndexOf('/') + 1)..]) is { } why)
                    throw S3PodException.Usage($"--path '{spec}': cannot archive {native}: {why}");
                if (File.Exists(native) || Directory.Exists(native) || new FileInfo(native).LinkTarget is not null) Add(abs);
                else missing(spec);
                continue;
            }
            var before = found.Count;
            foreach (var match in GlobMatches(abs)) Add(match);
            if (found.Count == before) missing(spec);
        }
        // A path inside another listed path would be stored twice.
        found.RemoveAll(i => found.Any(o => !ReferenceEquals(o, i) && IsUnder(i, o)));
        return found.Select(abs => new ArchiveInput(Native(abs), Anchor(abs))).ToList();
    }

    /// <summary>Files and directories (slash form) matching an absolute glob; a matching directory is taken whole.</summary>
    private IEnumerable<string> GlobMatches(string absolutePattern)
    {
        var glob = new Glob(absolutePattern.TrimStart('/'));
        var start = Native(FromRoot(Glob.LiteralBase(glob.Pattern)));
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
                var path = Slash(child.FullName);
                if (glob.IsMatch(path.TrimStart('/'))) { yield return path; continue; }
                if (child is DirectoryInfo && child.LinkTarget is null) stack.Push(child.FullName);
            }
        }
    }

    /// <summary>Where restores may write: the listed paths, or for a glob its fixed leading directory.</summary>
    private List<string> RestoreRoots() => _includes.Select(spec =>
    {
        var abs = Absolute(spec);
        return Glob.IsPattern(spec) ? FromRoot(Glob.LiteralBase(abs.TrimStart('/'))) : abs;
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
                if (!target.Equals(root, _cmp) && !IsUnder(target, root)) continue;
                var parent = Path.GetDirectoryName(Native(root));
                if (parent is null) return null;
                return (parent, Path.GetRelativePath(parent, Native(target)).Replace('\\', '/'));
            }
            return null;
        };
    }
}
