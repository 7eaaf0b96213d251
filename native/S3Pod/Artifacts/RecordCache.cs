using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using S3Pod.Storage;

namespace S3Pod.Artifacts;

/// <summary>
/// Local copies of ledger records, under <c>&lt;cache_dir&gt;/artifacts/records/&lt;store-id&gt;/&lt;name&gt;/</c>.
/// Version records and <c>_artifact.json</c> never change once written, so a copy is good forever:
/// a pinned version resolves with no request at all, and gc reads each record once. Aliases and the
/// head do change; their copies carry the ETag they were read with and are used only while a
/// listing shows that same ETag. A cache that cannot be read or written costs requests, nothing else.
/// </summary>
internal sealed class RecordCache(string root)
{
    /// <summary>
    /// Which store the records belong to: a digest of the store's <see cref="IObjectStore.Identity"/>
    /// (endpoint, bucket, prefix, or the local store's directory), so two buckets never share cached records.
    /// </summary>
    public static string StoreId(string storeIdentity) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(storeIdentity)))[..24];

    private string PathFor(string name, string relative) =>
        Path.Combine(root, name.Replace('/', Path.DirectorySeparatorChar), relative.Replace('/', Path.DirectorySeparatorChar));

    public ArtifactRecord? GetArtifact(string name) => Read(PathFor(name, "_artifact.json"), ArtifactJson.Default.ArtifactRecord);
    public void PutArtifact(ArtifactRecord record) => Write(PathFor(record.Name, "_artifact.json"), record, ArtifactJson.Default.ArtifactRecord);

    public VersionRecord? GetVersion(string name, string version) => Read(PathFor(name, $"_versions/{version}.json"), ArtifactJson.Default.VersionRecord);
    public void PutVersion(VersionRecord record) => Write(PathFor(record.Name, $"_versions/{record.Version}.json"), record, ArtifactJson.Default.VersionRecord);

    public AliasRecord? GetAlias(string name, string alias, string etag) =>
        Read(PathFor(name, $"_aliases/{alias}.json"), ArtifactJson.Default.CachedAlias) is { } c && c.ETag == Bare(etag) ? c.Record : null;
    public void PutAlias(string name, string etag, AliasRecord record) =>
        Write(PathFor(name, $"_aliases/{record.Alias}.json"), new CachedAlias(CachedAlias.CurrentSchema, Bare(etag), record), ArtifactJson.Default.CachedAlias);

    public HeadRecord? GetHead(string name, string etag) =>
        Read(PathFor(name, "_head.json"), ArtifactJson.Default.CachedHead) is { } c && c.ETag == Bare(etag) ? c.Record : null;
    public void PutHead(string name, string etag, HeadRecord record) =>
        Write(PathFor(name, "_head.json"), new CachedHead(CachedHead.CurrentSchema, Bare(etag), record), ArtifactJson.Default.CachedHead);

    private static string Bare(string etag) => etag.Trim('"');

    private static T? Read<T>(string path, JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }

    private static void Write<T>(string path, T record, JsonTypeInfo<T> type)
    {
        try
        {
            Local.AtomicFile.WriteJson(path, record, type);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not fatal: the record is read from the store next time.
        }
    }
}
