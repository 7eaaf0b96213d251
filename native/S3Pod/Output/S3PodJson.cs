using System.Text.Json.Serialization;
using S3Pod.Storage;

namespace S3Pod.Output;

/// <summary>Every type s3pod reads or writes as JSON, source-generated (no reflection under AOT).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(LocalMeta))]
[JsonSerializable(typeof(KeyResult))]
[JsonSerializable(typeof(TransferResult))]
[JsonSerializable(typeof(ExistsResult))]
[JsonSerializable(typeof(ListResult))]
[JsonSerializable(typeof(DeleteResult))]
[JsonSerializable(typeof(DoctorResult))]
[JsonSerializable(typeof(VersionResult))]
[JsonSerializable(typeof(ErrorResult))]
[JsonSerializable(typeof(Cache.CacheManifest))]
[JsonSerializable(typeof(Cache.RestoreResult))]
[JsonSerializable(typeof(Cache.SaveResult))]
[JsonSerializable(typeof(Cache.InspectResult))]
[JsonSerializable(typeof(Cache.PruneResult))]
internal sealed partial class S3PodJson : JsonSerializerContext;

internal sealed record KeyResult(string Key, string? Hash);

/// <summary>download / upload / dir / docker results.</summary>
internal sealed record TransferResult(
    string Key,
    string Action,
    long Bytes,
    double Seconds,
    string? Sha256 = null,
    string? Source = null,
    string? Path = null,
    bool Skipped = false,
    long? Files = null,
    long? UncompressedBytes = null);

internal sealed record ExistsResult(string Key, bool Exists, long? Size, DateTimeOffset? LastModified);

internal sealed record ListEntry(string Key, long Size, DateTimeOffset LastModified);

internal sealed record ListResult(string Prefix, IReadOnlyList<ListEntry> Objects);

internal sealed record DeleteResult(string Key, bool Deleted);

internal sealed record DoctorCheck(string Name, bool Ok, string Detail);

internal sealed record DoctorResult(string Store, bool Ok, IReadOnlyList<DoctorCheck> Checks, string? ConfigFile);

internal sealed record VersionResult(string Version);

internal sealed record ErrorResult(string Error, int ExitCode);
