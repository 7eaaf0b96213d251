using System.Text.Json.Serialization;

namespace S3Pod.Cache;

/// <summary>The cache's stored format (the manifest beside each archive), serialised apart from CLI
/// output so one can change without the other; same options as every stored record.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(CacheManifest))]
internal sealed partial class CacheJson : JsonSerializerContext;
