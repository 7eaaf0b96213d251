using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using S3Pod.Storage;

namespace S3Pod.Artifacts;

internal sealed partial class ArtifactService
{
    /// <summary>What <c>--expect none</c> means: the alias must not exist.</summary>
    public const string ExpectNone = "none";

    /// <summary>
    /// Alias protocol: the target (and secondary) must be live versions. Read the alias and its ETag;
    /// with <c>--expect</c> the current version must be the expected one (exit 4 otherwise); write by
    /// compare-and-swap against that ETag (create-only when there is none). A lost swap re-reads and
    /// re-checks <c>--expect</c>, so of several writers expecting the same value exactly one wins.
    /// After writing, the target's tombstone is looked for once more: an <c>rm</c> that checked the
    /// aliases before this write landed cannot have seen it, so if the version was deleted meanwhile
    /// the alias is put back and the command fails. An alias never points at a deleted version.
    /// </summary>
    public async Task<AliasResult> SetAliasAsync(AliasSetRequest request, CancellationToken ct)
    {
        var name = request.Name;
        ArtifactNames.ValidateAlias(request.Alias);
        if ((request.Secondary is null) != (request.Weight is null))
            throw S3PodException.Usage("--secondary and --weight go together (the weight is the secondary's share of picks)");
        if (request.Weight is < 0 or > 100) throw S3PodException.Usage($"--weight must be from 0 to 100, not {request.Weight}");
        await _ledger.RequireWritableAsync(ct);
        var scheme = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var listing = await _ledger.ListAsync(name, ct);
        var target = TargetVersion(listing, scheme, request.Target, "version");
        var secondary = request.Secondary is null ? null : TargetVersion(listing, scheme, request.Secondary, "--secondary");
        if (secondary == target) throw S3PodException.Usage($"--secondary {secondary} is the alias's own version");
        string? expect = request.Expect switch
        {
            null => null,
            ExpectNone => ExpectNone,
            var e => scheme.Parse(e, "--expect").Text,
        };

        var key = ArtifactLayout.Alias(name, request.Alias);
        listing.Aliases.TryGetValue(request.Alias, out var listed);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var current = await _ledger.AliasAsync(name, request.Alias, attempt == 1 ? listed : null, ct);
            var now = current?.Record.Version;
            if (expect is not null && (expect == ExpectNone ? now is not null : now != expect))
                throw S3PodException.Conflict($"alias {request.Alias} of {name} points at {now ?? "nothing"}, not {expect} as expected");
            int weight = request.Weight ?? 0;
            if (current is { Record: var same } && same.Version == target && same.Secondary == secondary && same.Weight == weight)
            {
                _reporter.Info($"{name}:{request.Alias} already points at {Describe(target, secondary, weight)}");
                return new AliasResult(name, request.Alias, target, secondary, weight, same.Previous, Changed: false);
            }
            var record = new AliasRecord(AliasRecord.CurrentSchema, request.Alias, target, secondary, weight, _clock.GetUtcNow(), _options.Actor, now);
            if (await _ledger.ReplaceAsync(key, record, ArtifactJson.Default.AliasRecord, current?.ETag, ct) is not PutOutcome.Written written)
            {
                await Jitter(attempt, ct);
                continue;
            }
            await ReleaseIfDeletedAsync(name, request.Alias, written.Object.ETag, current?.Record, [target, secondary], ct);
            if (written.Object.ETag is { } etag) _ledger.Cache.PutAlias(name, etag, record);
            _reporter.Info($"{name}:{request.Alias} -> {Describe(target, secondary, weight)}{(now is null ? "" : $" (was {now})")}");
            return new AliasResult(name, request.Alias, target, secondary, weight, now, Changed: true);
        }
        throw S3PodException.Conflict($"alias {request.Alias} of {name} kept changing under {MaxAttempts} attempts to set it");
    }

    /// <summary>
    /// <c>alias rollback</c>: points the alias back at the version it pointed at before its last move
    /// (its record's <c>previous</c>), as <see cref="SetAliasAsync"/> with <c>--expect</c> the version
    /// it points at now (or <paramref name="expect"/>), so a rollback racing another move loses
    /// (exit 4) instead of undoing it. The canary split is not restored; a second rollback undoes the first.
    /// </summary>
    public async Task<AliasResult> RollbackAliasAsync(string name, string alias, string? expect, CancellationToken ct)
    {
        ArtifactNames.ValidateAlias(alias);
        if (await _ledger.AliasAsync(name, alias, null, ct) is not { Record: { Version: { } now } record })
            throw await _ledger.SchemeAsync(name, ct) is null
                ? NoSuchArtifact(name)
                : S3PodException.NotFound($"{name} has no alias {alias}");
        if (record.Previous is not { } previous)
            throw S3PodException.NotFound($"alias {alias} of {name} has no previous version (it points at {now})");
        return await SetAliasAsync(new AliasSetRequest(name, alias, previous, null, null, expect ?? now), ct);
    }

    private static string Describe(string target, string? secondary, int weight) =>
        secondary is null ? target : $"{target}, {secondary} for {weight}% of picks";

    /// <summary>A version, partial version or <c>latest</c>, resolved now to one live version.</summary>
    private static string TargetVersion(ArtifactListing listing, VersionScheme scheme, string text, string what)
    {
        var version = Selector.Parse(text, scheme) switch
        {
            Selector.Exact e => e.Version,
            Selector.Latest => listing.Latest(scheme) ?? throw S3PodException.NotFound($"{listing.Name} has no versions"),
            Selector.Partial p => VersionRules.Max(listing.Live(scheme).Where(p.Prefix.Matches))
                ?? throw S3PodException.NotFound($"{listing.Name} has no version {p.Prefix.Text}.x"),
            _ => throw S3PodException.Usage($"{what} must be a version, a partial version or latest, not {text}"),
        };
        if (!listing.Records.ContainsKey(version.Text)) throw S3PodException.NotFound($"{listing.Name}:{version} does not exist");
        if (listing.Tombstones.ContainsKey(version.Text)) throw S3PodException.NotFound($"{listing.Name}:{version} was deleted");
        return version.Text;
    }

    /// <summary>
    /// The second half of the alias/rm handshake (see <see cref="SetAliasAsync"/>): if one of
    /// <paramref name="versions"/> got a tombstone, swap the alias back to <paramref name="previous"/>
    /// (or to removed) and fail.
    /// </summary>
    private async Task ReleaseIfDeletedAsync(string name, string alias, string? writtenETag, AliasRecord? previous, string?[] versions, CancellationToken ct)
    {
        foreach (var v in versions.OfType<string>())
        {
            if (await Store.HeadAsync(ArtifactLayout.Tombstone(name, v), ct) is null) continue;
            var back = (previous ?? Removed(alias, null)) with { Updated = _clock.GetUtcNow() };
            if (writtenETag is not null) await _ledger.ReplaceAsync(ArtifactLayout.Alias(name, alias), back, ArtifactJson.Default.AliasRecord, writtenETag, ct);
            throw S3PodException.Conflict($"{name}:{v} was deleted while the alias was being set; the alias was put back");
        }
    }

    private AliasRecord Removed(string alias, string? previous) =>
        new(AliasRecord.CurrentSchema, alias, null, null, 0, _clock.GetUtcNow(), _options.Actor, previous);

    /// <summary>
    /// <c>alias rm</c>: replaces the alias with a removed marker by compare-and-swap (a conditional
    /// DELETE is not enforced by every server, a conditional PUT is), with the same <c>--expect</c>
    /// rule as <c>alias set</c>.
    /// </summary>
    public async Task<AliasRemoveResult> RemoveAliasAsync(string name, string alias, string? expect, CancellationToken ct)
    {
        ArtifactNames.ValidateAlias(alias);
        await _ledger.RequireWritableAsync(ct);
        var scheme = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var expected = expect is null or ExpectNone ? expect : scheme.Parse(expect, "--expect").Text;
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var current = await _ledger.AliasAsync(name, alias, null, ct);
            if (current is not { Record.Version: { } now, ETag: var etag }) throw S3PodException.NotFound($"{name} has no alias {alias}");
            if (expected is not null && expected != now)
                throw S3PodException.Conflict($"alias {alias} of {name} points at {now}, not {expected} as expected");
            if (await _ledger.ReplaceAsync(ArtifactLayout.Alias(name, alias), Removed(alias, now), ArtifactJson.Default.AliasRecord, etag, ct) is PutOutcome.Written)
            {
                _reporter.Info($"removed alias {alias} of {name} (was {now})");
                return new AliasRemoveResult(name, alias, now);
            }
            await Jitter(attempt, ct);
        }
        throw S3PodException.Conflict($"alias {alias} of {name} kept changing under {MaxAttempts} attempts to remove it");
    }

    /// <summary><c>alias list</c>: the aliases that point somewhere (removed ones are left out).</summary>
    public async Task<AliasListResult> ListAliasesAsync(string name, CancellationToken ct)
    {
        _ = await _ledger.SchemeAsync(name, ct) ?? throw NoSuchArtifact(name);
        var listing = await _ledger.ListAsync(name, ct);
        var entries = new List<AliasEntry>();
        foreach (var (alias, listed) in listing.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (await _ledger.AliasAsync(name, alias, listed, ct) is { Record: { Version: { } version } r })
                entries.Add(new AliasEntry(alias, version, r.Secondary, r.Weight, r.Previous, r.Updated, r.UpdatedBy));
        }
        return new AliasListResult(name, entries);
    }

    /// <summary>
    /// <c>pick</c>: the version one request gets under a canary split: the secondary for
    /// <c>weight</c>% of picks. With a seed (a host name) the choice is a stable function of seed,
    /// artifact and alias, so a host sticks to one version for as long as the split stays.
    /// </summary>
    public async Task<PickResult> PickAsync(string name, string alias, string? seed, CancellationToken ct)
    {
        ArtifactNames.ValidateAlias(alias);
        var current = await _ledger.AliasAsync(name, alias, null, ct);
        if (current is not { Record: { Version: { } primary } record })
            throw S3PodException.NotFound(await _ledger.SchemeAsync(name, ct) is null ? $"artifact {name} does not exist" : $"{name} has no alias {alias}");
        int bucket = seed is null ? Random.Shared.Next(100) : Bucket(seed, name, alias);
        bool secondary = record.Secondary is not null && bucket < record.Weight;
        return new PickResult(name, alias, secondary ? record.Secondary! : primary, secondary ? "secondary" : "primary", bucket, seed);
    }

    /// <summary>0-99 from SHA-256 of seed, name and alias: stable across runs, machines and versions of s3pod.</summary>
    public static int Bucket(string seed, string name, string alias)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}\n{name}\n{alias}"));
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(digest) % 100);
    }
}
