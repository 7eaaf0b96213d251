using System.Text.Encodings.Web;
using System.Text.Json;
using S3Pod.Artifacts;
using S3Pod.Local;

namespace S3Pod.Assets;

/// <summary>The two shapes a manifest file may have.</summary>
internal enum ManifestFormat
{
    /// <summary><c>{"assets": {NAME: VALUE, ...}, "schema": "s3pod.assets/v1"}</c>: values are a version,
    /// an override, or <c>{"version": V, "digest": "sha256:..."}</c>.</summary>
    S3Pod,
    /// <summary>The flat <c>versioned_assets.json</c> (format <c>baiji</c> in the README): <c>{"/foo/bar.csv": "1.2.5", ...}</c>, strings only.</summary>
    Baiji,
}

/// <summary>
/// One manifest entry. Exactly one of <see cref="Version"/>, <see cref="File"/> and <see cref="Uri"/>
/// is set: a pin, or a development override (an absolute path) naming a local file or an
/// S3 object to use instead.
/// </summary>
/// <param name="Key">The name as written in the file (flat manifests write a leading '/').</param>
/// <param name="Name">The artifact name (leading '/' dropped).</param>
/// <param name="Digest"><c>sha256:&lt;hex&gt;</c> of the pinned content, when the manifest records it.</param>
/// <param name="File">A local override as written (relative paths are relative to the manifest's directory).</param>
/// <param name="Extra">Fields of an object entry this version does not know, kept as they are.</param>
internal sealed record ManifestEntry(string Key, string Name, string? Version, string? Digest, string? File, S3Uri? Uri, IReadOnlyDictionary<string, JsonElement>? Extra = null)
{
    public bool IsOverride => File is not null || Uri is not null;

    /// <summary>What the entry is, for listings: version, file or s3.</summary>
    public string Kind => File is not null ? "file" : Uri is not null ? "s3" : "version";

    /// <summary>The entry's value as the file shows it.</summary>
    public string Value => File ?? Uri?.ToString() ?? Version!;
}

/// <summary>
/// The manifest checked in with the code: each asset name pinned to a version (and its digest), or
/// overridden during development. Reads the flat <c>versioned_assets.json</c> as it is and
/// the richer s3pod shape; writes keys sorted, 4-space indented, '\n' line ends and a trailing
/// newline, in one rename, in the shape it was read in (a flat file becomes the s3pod shape only
/// when an entry needs a digest), so diffs stay one line per change.
/// </summary>
internal sealed class AssetManifest
{
    public const string Schema = "s3pod.assets/v1";

    private readonly SortedDictionary<string, ManifestEntry> _entries = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, JsonElement> _extraTop = new(StringComparer.Ordinal);

    public AssetManifest(string path, ManifestFormat format)
    {
        FilePath = path;
        Format = format;
    }

    public string FilePath { get; }
    public ManifestFormat Format { get; private set; }

    /// <summary>The s3pod shape's <c>repository</c> (the artifact store the pins refer to), when given.</summary>
    public string? Repository => _extraTop.TryGetValue("repository", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;

    public IEnumerable<ManifestEntry> Entries => _entries.Values;

    /// <summary>The manifest at <paramref name="path"/>, or null when there is no such file.</summary>
    public static AssetManifest? Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"manifest {path} cannot be read: {e.Message}");
        }
        return Parse(path, bytes);
    }

    public static AssetManifest Parse(string path, ReadOnlyMemory<byte> bytes)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw S3PodException.Usage($"manifest {path} is not valid JSON: {e.Message.ReplaceLineEndings(" ")}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw S3PodException.Usage($"manifest {path} must be a JSON object");
            bool s3pod = root.TryGetProperty("assets", out var assets) && assets.ValueKind == JsonValueKind.Object;
            var manifest = new AssetManifest(path, s3pod ? ManifestFormat.S3Pod : ManifestFormat.Baiji);
            if (s3pod)
            {
                foreach (var p in root.EnumerateObject())
                {
                    if (p.Name == "assets") continue;
                    if (p.Name == "schema" && p.Value.ValueKind == JsonValueKind.String && p.Value.GetString() != Schema)
                        throw S3PodException.Usage($"manifest {path} has schema '{p.Value.GetString()}'; this s3pod reads {Schema} (a newer s3pod wrote it?)");
                    if (!manifest._extraTop.TryAdd(p.Name, p.Value.Clone())) throw S3PodException.Usage($"manifest {path}: '{p.Name}' appears twice");
                }
            }
            foreach (var p in (s3pod ? assets : root).EnumerateObject())
                manifest.Add(manifest.ParseEntry(p.Name, p.Value));
            return manifest;
        }
    }

    private ManifestEntry ParseEntry(string key, JsonElement value)
    {
        string name;
        try
        {
            name = AssetSpec.ValidName(key);
        }
        catch (S3PodException e)
        {
            throw S3PodException.Usage($"manifest {FilePath}: {e.Message}");
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return FromString(key, name, value.GetString()!);
            case JsonValueKind.Object when Format == ManifestFormat.S3Pod:
                string? version = null, digest = null;
                var extra = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var p in value.EnumerateObject())
                {
                    if (p.Name == "version" && p.Value.ValueKind == JsonValueKind.String) version = p.Value.GetString();
                    else if (p.Name == "digest" && p.Value.ValueKind == JsonValueKind.String) digest = p.Value.GetString();
                    else extra[p.Name] = p.Value.Clone();
                }
                if (version is null || !LooksLikeVersion(version))
                    throw S3PodException.Usage($"manifest {FilePath}: entry '{key}' needs \"version\": a version starting with a digit");
                if (digest is not null && !IsDigest(digest))
                    throw S3PodException.Usage($"manifest {FilePath}: entry '{key}': digest '{digest}' is not sha256: followed by 64 lower-case hex characters");
                return new ManifestEntry(key, name, version, digest, null, null, extra.Count == 0 ? null : extra);
            default:
                throw S3PodException.Usage($"manifest {FilePath}: entry '{key}' must be a string{(Format == ManifestFormat.S3Pod ? " or an object with \"version\"" : "")}");
        }
    }

    /// <summary>
    /// A string value: <c>s3://…</c> is an S3 override; a string starting with a digit is a version (every
    /// scheme's versions do: 3, 1.2.5, 0.1, 2025-01-02T03-04-05Z); anything else is a local file override.
    /// </summary>
    private ManifestEntry FromString(string key, string name, string value)
    {
        if (S3Uri.Looks(value))
        {
            try
            {
                return new ManifestEntry(key, name, null, null, null, S3Uri.Parse(value));
            }
            catch (S3PodException e)
            {
                throw S3PodException.Usage($"manifest {FilePath}: entry '{key}': {e.Message}");
            }
        }
        if (LooksLikeVersion(value)) return new ManifestEntry(key, name, value, null, null, null);
        if (value.Trim().Length == 0) throw S3PodException.Usage($"manifest {FilePath}: entry '{key}' is empty");
        return new ManifestEntry(key, name, null, null, value, null);
    }

    private static bool LooksLikeVersion(string v) => v.Length > 0 && char.IsAsciiDigit(v[0]) && SchemelessVersion.TryParse(v, out _);

    private static bool IsDigest(string d) =>
        d.Length == 71 && d.StartsWith("sha256:", StringComparison.Ordinal) && d[7..].All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private void Add(ManifestEntry entry)
    {
        if (_entries.Values.FirstOrDefault(e => e.Name == entry.Name) is { } twin)
            throw S3PodException.Usage($"manifest {FilePath}: '{twin.Key}' and '{entry.Key}' name the same asset");
        _entries[entry.Key] = entry;
    }

    /// <summary>The entry for an asset name (with or without its leading '/').</summary>
    public ManifestEntry? Find(string name)
    {
        var bare = name.TrimStart('/');
        return _entries.Values.FirstOrDefault(e => e.Name == bare);
    }

    /// <summary>Adds or replaces the entry for <paramref name="entry"/>'s name, keeping the key as written
    /// when the name was there already.</summary>
    public void Set(ManifestEntry entry)
    {
        if (Find(entry.Name) is { } existing)
        {
            _entries.Remove(existing.Key);
            entry = entry with { Key = existing.Key };
        }
        _entries[entry.Key] = entry;
        if (Format == ManifestFormat.Baiji && (entry.Digest is not null || entry.Extra is not null)) Format = ManifestFormat.S3Pod;
    }

    /// <summary>The file's bytes: sorted keys, 4-space indent, '\n' line ends, a trailing newline.</summary>
    public byte[] Render()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            IndentSize = 4,
            NewLine = "\n",
            // Paths and names stay readable in diffs (this is a file, not HTML).
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            w.WriteStartObject();
            if (Format == ManifestFormat.Baiji)
            {
                foreach (var e in _entries.Values) w.WriteString(e.Key, e.Value);
            }
            else
            {
                var top = new SortedDictionary<string, JsonElement?>(_extraTop.ToDictionary(p => p.Key, p => (JsonElement?)p.Value), StringComparer.Ordinal)
                {
                    ["assets"] = null,
                    ["schema"] = null,
                };
                foreach (var (name, value) in top)
                {
                    if (name == "assets") WriteAssets(w);
                    else if (name == "schema") w.WriteString("schema", Schema);
                    else { w.WritePropertyName(name); value!.Value.WriteTo(w); }
                }
            }
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private void WriteAssets(Utf8JsonWriter w)
    {
        w.WriteStartObject("assets");
        foreach (var e in _entries.Values)
        {
            if (e.Digest is null && e.Extra is null)
            {
                w.WriteString(e.Key, e.Value);
                continue;
            }
            var fields = new SortedDictionary<string, JsonElement?>(StringComparer.Ordinal) { ["version"] = null };
            if (e.Digest is not null) fields["digest"] = null;
            foreach (var (k, v) in e.Extra ?? new Dictionary<string, JsonElement>()) fields[k] = v;
            w.WriteStartObject(e.Key);
            foreach (var (k, v) in fields)
            {
                if (k == "version") w.WriteString(k, e.Version);
                else if (k == "digest") w.WriteString(k, e.Digest);
                else { w.WritePropertyName(k); v!.Value.WriteTo(w); }
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    /// <summary>Writes the file in one rename (a reader never sees half of it).</summary>
    public void Save()
    {
        try
        {
            AtomicFile.Write(FilePath, Render());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot write the manifest {FilePath}: {e.Message}");
        }
    }
}
