using System.Text.Json.Serialization;

namespace S3Pod.Storage;

/// <summary>
/// The storage layer's own stored formats (local-store metadata, the capability cache): versioned
/// records with a <c>schema</c> field, serialised separately from CLI output so one can change
/// without the other. Each feature registers its own records (CacheJson, ArtifactJson, AssetJson).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(LocalMeta))]
[JsonSerializable(typeof(CapabilityRecord))]
[JsonSerializable(typeof(CollectionMark))]
internal sealed partial class StoredJson : JsonSerializerContext;
