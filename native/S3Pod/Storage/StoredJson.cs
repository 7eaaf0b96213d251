using System.Text.Json.Serialization;

namespace S3Pod.Storage;

/// <summary>
/// Every format s3pod keeps on disk or in a bucket (cache manifests, local-store metadata, the
/// capability cache, artifact records): versioned records with a <c>schema</c> field, serialised
/// separately from CLI output so one can change without the other.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(LocalMeta))]
[JsonSerializable(typeof(CapabilityRecord))]
[JsonSerializable(typeof(CollectionMark))]
[JsonSerializable(typeof(Cache.CacheManifest))]
[JsonSerializable(typeof(Artifacts.ArtifactRecord))]
[JsonSerializable(typeof(Artifacts.VersionRecord))]
[JsonSerializable(typeof(Artifacts.TombstoneRecord))]
[JsonSerializable(typeof(Artifacts.HeadRecord))]
[JsonSerializable(typeof(Artifacts.AliasRecord))]
[JsonSerializable(typeof(Artifacts.CachedAlias))]
[JsonSerializable(typeof(Artifacts.CachedHead))]
[JsonSerializable(typeof(Assets.CachedObjectRecord))]
[JsonSerializable(typeof(Assets.MissingObjectsRecord))]
[JsonSerializable(typeof(Assets.AssetRecord))]
[JsonSerializable(typeof(Assets.BundleIndex))]
internal sealed partial class StoredJson : JsonSerializerContext;
