namespace S3Pod.Artifacts;

/// <summary>Push a file or directory as a new version.</summary>
/// <param name="Source">Absolute path of a file or directory.</param>
/// <param name="Scheme">The scheme for a new artifact (<c>--scheme</c>); for an existing one it must match.</param>
/// <param name="Aliases">Aliases to move to the new version once it is committed.</param>
/// <param name="Level">zstd level for directories.</param>
/// <param name="WriteOnly">Blob and record only, with no read of any kind (date scheme, write-only credentials).</param>
internal sealed record PushRequest(
    string Name,
    string Source,
    string? Scheme,
    VersionRequest Version,
    IReadOnlyList<string> Aliases,
    IReadOnlyDictionary<string, string> Metadata,
    string? ContentType,
    int Level,
    bool WriteOnly = false);

/// <summary>Replace the staging head with a file or directory.</summary>
internal sealed record StageRequest(string Name, string Source, string? Scheme, IReadOnlyDictionary<string, string> Metadata, string? ContentType, int Level);

/// <summary>Turn the head into the next version.</summary>
/// <param name="IfChanged">Do nothing when the head's content equals the latest version's.</param>
internal sealed record PublishRequest(string Name, VersionRequest Version, IReadOnlyList<string> Aliases, bool IfChanged);

/// <summary>Point an alias at a version, optionally with a canary split.</summary>
/// <param name="Target">A version, a partial version or <c>latest</c>: resolved to one version now.</param>
/// <param name="Weight">Percent of picks that get <paramref name="Secondary"/> (0-100).</param>
/// <param name="Expect">The version the alias must point at now (<c>none</c>: must not exist), or null.</param>
internal sealed record AliasSetRequest(string Name, string Alias, string Target, string? Secondary, int? Weight, string? Expect);

/// <summary>Delete versions that are both outside the last <paramref name="KeepLast"/> live ones and older than <paramref name="OlderThan"/>.</summary>
internal sealed record PurgeRequest(string Name, int KeepLast, TimeSpan OlderThan, bool DryRun, bool IncludeAliased);

/// <summary>Fetch what a spec resolves to into <paramref name="Output"/> (null: a default name in <paramref name="WorkingDirectory"/>).</summary>
internal sealed record PullRequest(ArtifactSpec Spec, string? Output, string WorkingDirectory);

/// <summary>The result of <c>push</c> and <c>publish</c>.</summary>
/// <param name="Uploaded">False when the content was already in the store (same digest) and was not sent again.</param>
/// <param name="Published">False only for <c>publish --if-changed</c> when the head equals the latest version (then <see cref="Version"/> is that version).</param>
/// <param name="Attempts">Create-only writes it took to commit the record (above 1: concurrent writers took the earlier candidates).</param>
internal sealed record PushResult(
    string Name,
    string Version,
    string Scheme,
    string Kind,
    string Digest,
    long Size,
    long? ContentSize,
    long? Files,
    string Blob,
    bool Uploaded,
    bool Published,
    IReadOnlyList<string> Aliases,
    int Attempts,
    double Seconds);

/// <summary>The result of <c>stage</c>.</summary>
internal sealed record StageResult(string Name, string Kind, string Digest, long Size, long? ContentSize, long? Files, string Blob, bool Uploaded, string? PreviousDigest, double Seconds);

/// <summary>The result of <c>pull</c>.</summary>
/// <param name="Version">Null when the head was pulled.</param>
/// <param name="ResolvedBy">version, partial, latest, alias, head.</param>
internal sealed record PullResult(string Name, string? Version, string ResolvedBy, string Kind, string Path, string Digest, long Size, long? Files, string? SubPath, double Seconds);

/// <summary>The result of <c>path</c>.</summary>
/// <param name="Downloaded">False when the content was already in the local cache.</param>
/// <param name="Offline">True when no request was made at all (a pinned version or digest found locally).</param>
internal sealed record PathResult(string Name, string? Version, string ResolvedBy, string Kind, string Path, string Digest, bool Downloaded, bool Offline, double Seconds);

/// <summary>The result of <c>info</c>: the record a spec resolves to, and how.</summary>
internal sealed record InfoResult(string Name, string? Version, string ResolvedBy, string? Alias, string Scheme, bool Deleted, VersionRecord? Record, HeadRecord? Head);

/// <summary>One line of <c>versions</c>.</summary>
/// <param name="Created">When the record was written (the store's time).</param>
/// <param name="Aliases">Aliases whose primary or secondary is this version.</param>
internal sealed record VersionEntry(string Version, DateTimeOffset Created, bool Deleted, IReadOnlyList<string> Aliases);

/// <summary>The result of <c>versions</c>: newest first.</summary>
internal sealed record VersionsResult(string Name, string Scheme, string? Latest, bool HasHead, IReadOnlyList<VersionEntry> Versions);

/// <summary>The result of <c>list</c>.</summary>
internal sealed record ArtifactListResult(string Prefix, IReadOnlyList<string> Artifacts);

/// <summary>The result of <c>alias set</c>.</summary>
/// <param name="PreviousVersion">What the alias pointed at before (null: it did not exist): the version to roll back to.</param>
/// <param name="Changed">False when the alias already pointed exactly there (nothing was written).</param>
internal sealed record AliasResult(string Name, string Alias, string Version, string? Secondary, int Weight, string? PreviousVersion, bool Changed);

/// <summary>One alias of <c>alias list</c>.</summary>
internal sealed record AliasEntry(string Alias, string Version, string? Secondary, int Weight, string? Previous, DateTimeOffset Updated, string UpdatedBy);

internal sealed record AliasListResult(string Name, IReadOnlyList<AliasEntry> Aliases);

internal sealed record AliasRemoveResult(string Name, string Alias, string PreviousVersion);

/// <summary>The result of <c>pick</c>.</summary>
/// <param name="Picked">primary or secondary.</param>
/// <param name="Bucket">0-99; the secondary is picked when it is below the weight.</param>
internal sealed record PickResult(string Name, string Alias, string Version, string Picked, int Bucket, string? Seed);

/// <summary>The result of <c>rm</c>.</summary>
/// <param name="AlreadyDeleted">The version had a tombstone already (rm is idempotent).</param>
/// <param name="RemovedAliases">Aliases that pointed at it and were removed (<c>--force</c>).</param>
internal sealed record RemoveResult(string Name, string Version, bool Deleted, bool AlreadyDeleted, IReadOnlyList<string> RemovedAliases);

/// <summary>The result of <c>purge</c>.</summary>
/// <param name="Deleted">Versions tombstoned (with --dry-run: that would be).</param>
/// <param name="KeptAliased">Versions that qualified but were kept because an alias points at them.</param>
/// <param name="RemovedAliases">Aliases removed first (<c>--include-aliased</c>).</param>
internal sealed record PurgeResult(string Name, bool DryRun, IReadOnlyList<string> Deleted, IReadOnlyList<string> KeptAliased, IReadOnlyList<string> RemovedAliases, int Live);

/// <summary>One blob <c>gc</c> removed.</summary>
internal sealed record GcEntry(string Key, long Size, DateTimeOffset LastModified);

/// <summary>The result of <c>gc</c>.</summary>
/// <param name="Referenced">Blobs some live version, head or recent tombstone points at.</param>
/// <param name="SparedYoung">Unreferenced blobs kept because they are younger than the grace period.</param>
/// <param name="Deferred">Pushes, stages or publishes in flight: while there are any, gc deletes nothing.</param>
/// <param name="Left">Unreferenced blobs not deleted because the run reached its time limit.</param>
internal sealed record GcResult(bool DryRun, IReadOnlyList<GcEntry> Deleted, long FreedBytes, int Referenced, int SparedYoung, int Deferred, int Left);
