using System.Text.Json.Serialization;

namespace S3Pod.Artifacts;

/// <summary>The artifact ledger's stored records and their local caches: versioned records with a
/// <c>schema</c> field, serialised apart from CLI output so one can change without the other.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(ArtifactRecord))]
[JsonSerializable(typeof(VersionRecord))]
[JsonSerializable(typeof(TombstoneRecord))]
[JsonSerializable(typeof(HeadRecord))]
[JsonSerializable(typeof(AliasRecord))]
[JsonSerializable(typeof(CachedAlias))]
[JsonSerializable(typeof(CachedHead))]
internal sealed partial class ArtifactJson : JsonSerializerContext;
