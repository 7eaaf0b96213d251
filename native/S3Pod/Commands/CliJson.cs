using System.Text.Json.Serialization;

namespace S3Pod.Commands;

/// <summary>Every result a command prints with <c>--json</c>, source-generated (no reflection under
/// AOT). Field names are the public contract: the README's "JSON output" table documents each.</summary>
// Serialization only: nothing reads CLI output back, and the fast-path serializers alone keep the
// binary smaller than full metadata would (measured: about 125 KB).
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Serialization,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(KeyResult))]
[JsonSerializable(typeof(Transfers.TransferResult))]
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
[JsonSerializable(typeof(Artifacts.PushResult))]
[JsonSerializable(typeof(Artifacts.StageResult))]
[JsonSerializable(typeof(Artifacts.PullResult))]
[JsonSerializable(typeof(Artifacts.PathResult))]
[JsonSerializable(typeof(Artifacts.InfoResult))]
[JsonSerializable(typeof(Artifacts.VersionsResult))]
[JsonSerializable(typeof(Artifacts.ArtifactListResult))]
[JsonSerializable(typeof(Artifacts.AliasResult))]
[JsonSerializable(typeof(Artifacts.AliasListResult))]
[JsonSerializable(typeof(Artifacts.AliasRemoveResult))]
[JsonSerializable(typeof(Artifacts.PickResult))]
[JsonSerializable(typeof(Artifacts.RemoveResult))]
[JsonSerializable(typeof(Artifacts.PurgeResult))]
[JsonSerializable(typeof(Artifacts.GcResult))]
[JsonSerializable(typeof(Assets.AssetResult))]
[JsonSerializable(typeof(Assets.AssetListResult))]
[JsonSerializable(typeof(Assets.AssetCheckResult))]
[JsonSerializable(typeof(Assets.AssetPublishResult))]
[JsonSerializable(typeof(Assets.AssetVersionsResult))]
[JsonSerializable(typeof(Assets.AssetRemoteListResult))]
[JsonSerializable(typeof(Assets.AssetSyncResult))]
[JsonSerializable(typeof(Assets.AssetCacheListResult))]
[JsonSerializable(typeof(Assets.AssetCacheRemoveResult))]
[JsonSerializable(typeof(Assets.AssetCacheInvalidateResult))]
[JsonSerializable(typeof(Assets.AssetPrefillResult))]
[JsonSerializable(typeof(Assets.AssetPackResult))]
[JsonSerializable(typeof(Assets.AssetUnpackResult))]
internal sealed partial class CliJson : JsonSerializerContext;

internal sealed record KeyResult(string Key, string? Hash);

internal sealed record DoctorResult(string Store, bool Ok, IReadOnlyList<Storage.StoreCheck> Checks, string? ConfigFile, Storage.StoreCapabilities? Capabilities);

internal sealed record VersionResult(string Version);

internal sealed record ErrorResult(string Error, int ExitCode);
