using System.Text.Json.Serialization;

namespace S3Pod.Output;

/// <summary>Every result a command prints with <c>--json</c>, source-generated (no reflection under
/// AOT). Field names are the public contract: the README's "JSON output" table documents each.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(KeyResult))]
[JsonSerializable(typeof(Files.TransferResult))]
[JsonSerializable(typeof(Files.ExistsResult))]
[JsonSerializable(typeof(Files.ListResult))]
[JsonSerializable(typeof(Files.DeleteResult))]
[JsonSerializable(typeof(DoctorResult))]
[JsonSerializable(typeof(VersionResult))]
[JsonSerializable(typeof(ErrorResult))]
[JsonSerializable(typeof(Cache.RestoreResult))]
[JsonSerializable(typeof(Cache.SaveResult))]
[JsonSerializable(typeof(Cache.InspectResult))]
[JsonSerializable(typeof(Cache.PruneResult))]
[JsonSerializable(typeof(Cache.ExplainResult))]
[JsonSerializable(typeof(Assets.AssetResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetListResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetCheckResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetCacheListResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetCacheRemoveResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetCacheInvalidateResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetPrefillResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetPackResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(Assets.AssetUnpackResult), GenerationMode = JsonSourceGenerationMode.Serialization)]
internal sealed partial class CliJson : JsonSerializerContext;

internal sealed record KeyResult(string Key, string? Hash);

internal sealed record DoctorCheck(string Name, bool Ok, string Detail);

internal sealed record DoctorResult(string Store, bool Ok, IReadOnlyList<DoctorCheck> Checks, string? ConfigFile, Storage.StoreCapabilities? Capabilities);

internal sealed record VersionResult(string Version);

internal sealed record ErrorResult(string Error, int ExitCode);
