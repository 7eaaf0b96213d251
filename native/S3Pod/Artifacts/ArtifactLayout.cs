using S3Pod.Storage;

namespace S3Pod.Artifacts;

/// <summary>
/// Where everything lives under the store prefix. Every object of one artifact starts with
/// <c>artifacts/&lt;name&gt;/_</c> (names have no segment starting with '_'), so one LIST of that
/// prefix sees the whole artifact and nothing of a nested one.
/// <code>
/// artifacts/&lt;name&gt;/_artifact.json             scheme, created          create-only
/// artifacts/&lt;name&gt;/_versions/&lt;v&gt;.json        version record           create-only (the commit point)
/// artifacts/&lt;name&gt;/_versions/&lt;v&gt;.tomb.json   tombstone                create-only
/// artifacts/&lt;name&gt;/_head.json                 staging head             compare-and-swap
/// artifacts/&lt;name&gt;/_aliases/&lt;alias&gt;.json    alias                    compare-and-swap
/// blobs/sha256/&lt;2 hex&gt;/&lt;64 hex&gt;                file content             create-only, immutable
/// blobs/streamed/&lt;writer&gt;.tzst                  directory content        one writer's own key
/// </code>
/// </summary>
internal static class ArtifactLayout
{
    public const string ArtifactsRoot = "artifacts/";
    public const string BlobsRoot = "blobs/";
    private const string RecordSuffix = ".json";
    private const string TombstoneSuffix = ".tomb.json";

    /// <summary>The prefix one LIST reads to see everything of <paramref name="name"/>.</summary>
    public static string ArtifactPrefix(string name) => $"{ArtifactsRoot}{name}/_";

    public static string ArtifactRecord(string name) => $"{ArtifactsRoot}{name}/_artifact.json";
    public static string Version(string name, string version) => $"{ArtifactsRoot}{name}/_versions/{version}{RecordSuffix}";
    public static string Tombstone(string name, string version) => $"{ArtifactsRoot}{name}/_versions/{version}{TombstoneSuffix}";
    public static string Head(string name) => $"{ArtifactsRoot}{name}/_head.json";
    public static string Alias(string name, string alias) => $"{ArtifactsRoot}{name}/_aliases/{alias}{RecordSuffix}";

    /// <summary>The blob name (what records store) of file content with this sha256.</summary>
    public static string FileBlob(string sha256Hex) => $"sha256/{sha256Hex[..2]}/{sha256Hex}";

    /// <summary>The blob name of one writer's directory archive (its digest is only known at the end of the stream).</summary>
    public static string StreamedBlob(string writer) => $"streamed/{writer}.tzst";

    /// <summary>The store key of a blob name taken from a record.</summary>
    public static string BlobKey(string blob) => BlobsRoot + blob;

    /// <summary>The artifact name a key under <see cref="ArtifactsRoot"/> belongs to, or null.</summary>
    public static string? NameOf(string key)
    {
        if (!key.StartsWith(ArtifactsRoot, StringComparison.Ordinal)) return null;
        int marker = key.IndexOf("/_", ArtifactsRoot.Length, StringComparison.Ordinal);
        return marker < 0 ? null : key[ArtifactsRoot.Length..marker];
    }

    /// <summary>Sorts one LIST of <see cref="ArtifactPrefix"/> into the parts of an artifact.</summary>
    public static ArtifactListing Parse(string name, IEnumerable<ObjectInfo> objects)
    {
        var listing = new ArtifactListing(name);
        var prefix = $"{ArtifactsRoot}{name}/";
        foreach (var o in objects)
        {
            if (!o.Key.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = o.Key[prefix.Length..];
            if (rest == "_artifact.json") listing.Artifact = o;
            else if (rest == "_head.json") listing.Head = o;
            else if (rest.StartsWith("_aliases/", StringComparison.Ordinal) && rest.EndsWith(RecordSuffix, StringComparison.Ordinal) && rest.IndexOf('/', 9) < 0)
                listing.Aliases[rest[9..^RecordSuffix.Length]] = o;
            else if (rest.StartsWith("_versions/", StringComparison.Ordinal) && rest.IndexOf('/', 10) < 0)
            {
                if (rest.EndsWith(TombstoneSuffix, StringComparison.Ordinal)) listing.Tombstones[rest[10..^TombstoneSuffix.Length]] = o;
                else if (rest.EndsWith(RecordSuffix, StringComparison.Ordinal)) listing.Records[rest[10..^RecordSuffix.Length]] = o;
            }
        }
        return listing;
    }
}

/// <summary>
/// Everything one LIST says about an artifact: the truth for which versions exist (S3 LIST is
/// strongly consistent), with the ETags that tell whether a locally cached alias or head is current.
/// </summary>
internal sealed class ArtifactListing(string name)
{
    public string Name { get; } = name;
    public ObjectInfo? Artifact { get; set; }
    public ObjectInfo? Head { get; set; }
    public Dictionary<string, ObjectInfo> Aliases { get; } = new(StringComparer.Ordinal);
    /// <summary>Version records by version text, tombstoned ones included.</summary>
    public Dictionary<string, ObjectInfo> Records { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, ObjectInfo> Tombstones { get; } = new(StringComparer.Ordinal);

    /// <summary>Any trace of the artifact (a write-only pusher may not have been able to create <c>_artifact.json</c>).</summary>
    public bool Exists => Artifact is not null || Records.Count > 0 || Head is not null;

    /// <summary>Every version that was ever committed (records and tombstones) and parses under the scheme: never handed out again.</summary>
    public List<ArtifactVersion> Taken(VersionScheme scheme) =>
        Records.Keys.Concat(Tombstones.Keys).Distinct().Select(scheme.TryParse).OfType<ArtifactVersion>().ToList();

    /// <summary>Committed versions without a tombstone, in ascending order.</summary>
    public List<ArtifactVersion> Live(VersionScheme scheme)
    {
        var live = Records.Keys.Where(v => !Tombstones.ContainsKey(v)).Select(scheme.TryParse).OfType<ArtifactVersion>().ToList();
        live.Sort();
        return live;
    }

    /// <summary>The highest live release: what <c>latest</c> means (pre-releases are only reached by name).</summary>
    public ArtifactVersion? Latest(VersionScheme scheme) => VersionRules.Max(Live(scheme).Where(v => !v.IsPrerelease));
}
