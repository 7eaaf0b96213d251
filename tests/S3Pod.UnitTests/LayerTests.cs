using System.Text.RegularExpressions;

namespace S3Pod.UnitTests;

/// <summary>
/// The layer rules of native/S3Pod, checked on the source: each folder names only the folders its
/// row allows, by <c>using S3Pod.X</c> or by a qualified reference to a type declared in X
/// (<c>X.Type</c>, <c>S3Pod.X.Type</c>). Infrastructure names no feature, command, setting or output
/// type; features name no command; Config names no feature. A failure names the file and line.
/// </summary>
public sealed partial class LayerTests
{
    private static readonly string[] Infrastructure = ["Archive", "Streams", "Keys", "Storage", "Local", "Versions", "Output"];

    /// <summary>Folder → the folders it may name. A folder missing here fails the test: place it.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Archive"] = [],
        ["Streams"] = [],
        ["Output"] = [],
        ["Versions"] = [],
        ["Keys"] = ["Archive"],
        // The local store locks and writes through the local-disk layer.
        ["Storage"] = ["Streams", "Local"],
        ["Local"] = ["Archive", "Streams", "Output"],
        ["Config"] = ["Storage", "Output"],
        ["Transfers"] = ["Output"],
        ["Files"] = [.. Infrastructure, "Config", "Transfers"],
        ["Docker"] = [.. Infrastructure, "Config", "Transfers"],
        // The chunked content store: used by cache entries (and later by artifacts), naming none of them.
        ["Chunks"] = [.. Infrastructure, "Config"],
        ["Cache"] = [.. Infrastructure, "Config", "Chunks"],
        ["Artifacts"] = [.. Infrastructure, "Config"],
        // Assets are built on the artifact ledger (an asset version is an artifact version).
        ["Assets"] = [.. Infrastructure, "Config", "Artifacts"],
        ["Commands"] = ["*"],
        // Program.cs starts the command layer; S3PodException and Quantities name nothing.
        [""] = ["Commands"],
    };

    /// <summary>Known exceptions, each one type: the local-disk helper still lives in Files/.</summary>
    private static readonly HashSet<(string From, string To, string Type)> Exceptions =
    [
        ("Artifacts", "Files", "LocalFiles"),
        ("Assets", "Files", "LocalFiles"),
    ];

    [Fact]
    public void EveryFolder_NamesOnlyTheLayersItsRowAllows()
    {
        var violations = Check(SourceRoot());
        Assert.True(violations.Count == 0, "layer rule broken:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void TheCheck_CatchesAUsingAndAQualifiedType()
    {
        // The blunt proof that the scan sees what it must: a Storage file naming Config both ways.
        var root = Path.Combine(Path.GetTempPath(), "s3pod-layers-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "Config"));
            Directory.CreateDirectory(Path.Combine(root, "Storage"));
            File.WriteAllText(Path.Combine(root, "Config", "Settings.cs"), "namespace S3Pod.Config;\ninternal sealed record Settings(string Bucket);\n");
            File.WriteAllText(Path.Combine(root, "Storage", "Store.cs"),
                "using S3Pod.Config;\nnamespace S3Pod.Storage;\n// Config.Settings in a comment is not a reference\ninternal sealed class Store(Config.Settings s) { string B => s.Bucket; }\n");
            var violations = Check(root);
            Assert.Equal(2, violations.Count);
            Assert.Contains(violations, v => v.Contains(Path.Combine("Storage", "Store.cs") + ":1") && v.Contains("using S3Pod.Config"));
            Assert.Contains(violations, v => v.Contains(Path.Combine("Storage", "Store.cs") + ":4") && v.Contains("Config.Settings"));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    private static List<string> Check(string root)
    {
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin"))
            .ToList();
        string FolderOf(string file)
        {
            var parts = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar);
            return parts.Length > 1 ? parts[0] : "";
        }

        var declared = new Dictionary<string, HashSet<string>>();
        foreach (var f in files)
        {
            var folder = FolderOf(f);
            if (!declared.TryGetValue(folder, out var set)) declared[folder] = set = [];
            foreach (Match m in TypeDeclaration().Matches(File.ReadAllText(f))) set.Add(m.Groups[1].Value);
        }

        /// <summary>A using of a folder the row does not allow is let pass when every type of that folder
        /// the file names is an excepted one.</summary>
        bool OnlyExceptedTypes(string from, string to, string[] lines)
        {
            if (!Exceptions.Any(e => e.From == from && e.To == to)) return false;
            var named = lines.SelectMany(l => Word().Matches(Comment().Replace(l, "")).Select(w => w.Value)).Where(declared[to].Contains);
            return named.All(t => Exceptions.Contains((from, to, t)));
        }

        var violations = new List<string>();
        foreach (var f in files)
        {
            var from = FolderOf(f);
            if (!Allowed.TryGetValue(from, out var allowed))
            {
                violations.Add($"{Path.GetRelativePath(root, f)}: folder '{from}' has no row in LayerTests.Allowed");
                continue;
            }
            if (allowed.Contains("*")) continue;
            var lines = File.ReadAllLines(f);
            for (var i = 0; i < lines.Length; i++)
            {
                var code = Comment().Replace(lines[i], "");
                foreach (Match m in UsingLine().Matches(code))
                    if (m.Groups[1].Value != from && !allowed.Contains(m.Groups[1].Value) && !OnlyExceptedTypes(from, m.Groups[1].Value, lines))
                        violations.Add($"{Path.GetRelativePath(root, f)}:{i + 1}: {from} may not name {m.Groups[1].Value} ({m.Value.Trim()})");
                foreach (Match m in QualifiedType().Matches(code))
                {
                    var (to, type) = (m.Groups[1].Value, m.Groups[2].Value);
                    if (to == from || allowed.Contains(to) || !declared.TryGetValue(to, out var types) || !types.Contains(type)) continue;
                    if (Exceptions.Contains((from, to, type))) continue;
                    violations.Add($"{Path.GetRelativePath(root, f)}:{i + 1}: {from} may not name {to} ({to}.{type})");
                }
            }
        }
        return violations;
    }

    private static string SourceRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "S3Pod.sln"))) return Path.Combine(d.FullName, "native", "S3Pod");
        throw new InvalidOperationException("repository root not found");
    }

    [GeneratedRegex(@"\b(?:class|record|struct|enum|interface)\s+(\w+)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"(?<![\w.])[A-Z]\w*")]
    private static partial Regex Word();

    [GeneratedRegex(@"//.*$")]
    private static partial Regex Comment();

    [GeneratedRegex(@"^\s*using\s+(?:static\s+)?S3Pod\.(\w+)")]
    private static partial Regex UsingLine();

    // Not after '.' or a letter: `settings.Assets.Ttl` is a property, not the Assets namespace.
    [GeneratedRegex(@"(?<![\w.])(?:S3Pod\.)?(\w+)\.([A-Z]\w*)")]
    private static partial Regex QualifiedType();
}
