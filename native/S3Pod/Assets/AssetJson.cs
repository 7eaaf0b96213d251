using System.Text.Json.Serialization;

namespace S3Pod.Assets;

/// <summary>The assets' stored records (per-asset records, the object cache, bundle indexes):
/// versioned with a <c>schema</c> field, serialised apart from CLI output.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(CachedObjectRecord))]
[JsonSerializable(typeof(MissingObjectsRecord))]
[JsonSerializable(typeof(AssetRecord))]
[JsonSerializable(typeof(BundleIndex))]
internal sealed partial class AssetJson : JsonSerializerContext;
