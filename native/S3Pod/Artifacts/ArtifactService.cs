using System.Diagnostics;
using System.Security.Cryptography;
using S3Pod.Archive;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;

namespace S3Pod.Artifacts;

/// <summary>How one artifact service runs.</summary>
/// <param name="Actor">Who writes (<c>s3pod 1.0.0 on host (GitHub run 42)</c>), recorded in records.</param>
/// <param name="CacheRoot"><c>&lt;cache_dir&gt;/artifacts</c>: the content cache and record copies.</param>
/// <param name="StoreId">Which store the cached records belong to (<see cref="RecordCache.StoreId"/>).</param>
/// <param name="AssumeSingleWriter">Let writes run where the server does not enforce conditions.</param>
/// <param name="CrashAfter">Test only (S3POD_TEST_CRASH_AFTER): called with <c>content</c> and <c>record</c> at those steps of a push.</param>
/// <param name="Guard">Lifetimes of gc's intents and markers (tests shorten them).</param>
internal sealed record ArtifactOptions(string Actor, string CacheRoot, string StoreId, bool AssumeSingleWriter, Action<string>? CrashAfter = null, CollectionGuardOptions? Guard = null);

/// <summary>
/// Versioned artifacts on a plain object store, correct with concurrent writers: version records are
/// created create-only (a lost race takes the next version), the head and aliases change by
/// compare-and-swap, content is uploaded before the record that points at it (the record is the
/// commit point), and the listing of <c>_versions/</c> is the only truth about what exists (no index
/// to go stale). See <see cref="ArtifactLayout"/> for the keys.
/// </summary>
internal sealed partial class ArtifactService
{
    /// <summary>Create-only attempts before a push gives up (each lost one means another writer committed).</summary>
    public const int MaxAttempts = 50;

    /// <summary>Content already in the store is reused only while younger than this; older content is
    /// uploaded again, which renews it, so gc's grace period covers the push that now points at it.</summary>
    public static readonly TimeSpan ReuseWindow = TimeSpan.FromDays(1);

    public const string DirectoryContentType = "application/zstd";

    private readonly ArtifactLedger _ledger;
    private readonly ContentCache _content;
    private readonly Reporter _reporter;
    private readonly TimeProvider _clock;
    private readonly IFileSystem _fileSystem;
    private readonly ArtifactOptions _options;

    /// <param name="openStore">Opens the store; called only when a request is needed, so answers from
    /// the local caches never build an S3 client.</param>
    public ArtifactService(Func<IObjectStore> openStore, ArtifactOptions options, Reporter reporter, TimeProvider clock, IFileSystem fileSystem)
    {
        _options = options;
        _reporter = reporter;
        _clock = clock;
        _fileSystem = fileSystem;
        _ledger = new ArtifactLedger(openStore, new RecordCache(Path.Combine(options.CacheRoot, "records", options.StoreId)), reporter, options.AssumeSingleWriter);
        _content = new ContentCache(options.CacheRoot, fileSystem, reporter);
    }

    private IObjectStore Store => _ledger.Store;

    /// <summary>
    /// Push protocol: (1) content first: a file to <c>blobs/sha256/…</c> create-only (already there:
    /// reused, not sent again), a directory streamed as tar+zstd to this writer's own
    /// <c>blobs/streamed/&lt;writer&gt;.tzst</c>; (2) <c>_artifact.json</c> create-only if the artifact is
    /// new; (3) the version record, create-only: the commit point. A lost create-only write of a
    /// version that follows from what exists (next number, bump) re-reads the listing and tries the
    /// next one, with jitter; an explicit <c>--version</c> that loses is a conflict. (4) aliases.
    /// A crash after (1) leaves content no record points at (gc removes it after its grace period);
    /// after (3), a committed version whose aliases did not move. Both are consistent states.
    /// </summary>
    public async Task<PushResult> PushAsync(PushRequest request, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        bool isDirectory = CheckSource(request.Source);
        if (request.WriteOnly) return await PushWriteOnlyAsync(request, isDirectory, watch, ct);

        await _ledger.RequireWritableAsync(ct);
        var (scheme, exists) = await SchemeForWriteAsync(request.Name, request.Scheme, ct);
        VersionRules.Validate(scheme, request.Version);
        ContentRef content;
        bool uploaded;
        VersionRecord record;
        int attempts;
        await using (await BeginWriteAsync(ct))
        {
            (content, uploaded) = await UploadAsync(request.Name, request.Source, isDirectory, request.ContentType, request.Level, reuse: true, ct);
            _options.CrashAfter?.Invoke("content");
            if (!exists) await CreateArtifactAsync(request.Name, scheme, ct);
            (record, attempts) = await CommitAsync(request.Name, scheme, request.Version, content, request.Metadata, fromHead: null, sameHead: null, ct);
        }
        _options.CrashAfter?.Invoke("record");
        _reporter.Info($"pushed {request.Name}:{record.Version} ({TransferProgress.Size(content.Size)}{(uploaded ? "" : ", content already in the store")}) in {watch.Elapsed.TotalSeconds:0.00} s");
        await MoveAliasesAsync(request.Name, record.Version, request.Aliases, ct);
        return ToPushResult(record, uploaded, published: true, request.Aliases, attempts, watch);
    }

    /// <summary>
    /// Write-only CI pushers: credentials that may only PutObject can neither probe the
    /// server nor list nor read, so the version is the push time (date scheme) and the writes are the
    /// blob, <c>_artifact.json</c> (create-only, best effort: after the first push it exists and the
    /// refusal cannot even be told from a denial), and the record, create-only. A clash in the same
    /// second (the server refuses the create-only write; the follow-up read is denied) takes the
    /// next second. This relies on the server enforcing create-only, which cannot be probed here.
    /// </summary>
    private async Task<PushResult> PushWriteOnlyAsync(PushRequest request, bool isDirectory, Stopwatch watch, CancellationToken ct)
    {
        var scheme = request.Scheme is null ? null : VersionScheme.Parse(request.Scheme);
        if (scheme != VersionScheme.Date)
            throw S3PodException.Usage("--write-only needs --scheme date given explicitly: without reading, only the clock can pick a version");
        if (request.Aliases.Count > 0) throw S3PodException.Usage("--write-only cannot move aliases (that needs reading them)");
        VersionRules.Validate(scheme, request.Version);
        _ledger.AssumeEnforced();
        // What these credentials write would otherwise belong to them alone: the bucket owner could not read it.
        Store.GrantBucketOwnerFullControl();
        // No gc intent: these credentials could neither see a running gc nor remove the intent, and the
        // README's policy does not even allow writing it. gc's grace period is what protects this push.
        var (content, uploaded) = await UploadAsync(request.Name, request.Source, isDirectory, request.ContentType, request.Level, reuse: false, ct);
        _options.CrashAfter?.Invoke("content");
        try
        {
            await _ledger.CreateAsync(ArtifactLayout.ArtifactRecord(request.Name), NewArtifactRecord(request.Name, scheme), ArtifactJson.Default.ArtifactRecord, ct);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.AccessDenied)
        {
            // Already created by an earlier push (the create-only refusal is followed by a read we may not do).
        }
        var tried = new List<ArtifactVersion>();
        for (int attempt = 1; ; attempt++)
        {
            var version = VersionRules.Next(scheme, request.Version, tried, _clock.GetUtcNow(), request.Name);
            var record = NewVersionRecord(request.Name, version, scheme, content, request.Metadata, fromHead: null);
            bool lost;
            try
            {
                lost = await _ledger.CreateAsync(ArtifactLayout.Version(request.Name, version.Text), record, ArtifactJson.Default.VersionRecord, ct) is PutOutcome.PreconditionFailed;
            }
            catch (StorageException e) when (e.Failure == StorageFailure.AccessDenied)
            {
                // A refused create-only write is looked at with a read these credentials may not do.
                if (!request.Version.IsRelative)
                    throw S3PodException.Operational($"version {version} of {request.Name} was not written: access denied, or it exists (write-only credentials cannot tell which)", e);
                if (attempt >= 5) throw;
                lost = true;
            }
            if (!lost)
            {
                _options.CrashAfter?.Invoke("record");
                _reporter.Info($"pushed {request.Name}:{version} write-only ({TransferProgress.Size(content.Size)}) in {watch.Elapsed.TotalSeconds:0.00} s");
                return ToPushResult(record, uploaded, published: true, [], attempt, watch);
            }
            if (!request.Version.IsRelative) throw S3PodException.Conflict($"version {version} of {request.Name} exists");
            if (attempt >= MaxAttempts) throw S3PodException.Conflict($"{request.Name}: {MaxAttempts} seconds in a row were taken by other pushes; try again");
            tried.Add(version);
        }
    }

    /// <summary>
    /// Stage protocol: content as in push, then the head replaced by compare-and-swap against the
    /// ETag just read (create-only when there is none); a lost swap re-reads and tries again, so
    /// concurrent stages are serialised and the last one wins.
    /// </summary>
    public async Task<StageResult> StageAsync(StageRequest request, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        bool isDirectory = CheckSource(request.Source);
        await _ledger.RequireWritableAsync(ct);
        var (scheme, exists) = await SchemeForWriteAsync(request.Name, request.Scheme, ct);
        await using var intent = await BeginWriteAsync(ct);
        var (content, uploaded) = await UploadAsync(request.Name, request.Source, isDirectory, request.ContentType, request.Level, reuse: true, ct);
        _options.CrashAfter?.Invoke("content");
        if (!exists) await CreateArtifactAsync(request.Name, scheme, ct);
        var key = ArtifactLayout.Head(request.Name);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var current = await _ledger.HeadAsync(request.Name, listed: null, ct);
            var head = new HeadRecord(HeadRecord.CurrentSchema, content.Kind, content.Blob, content.Digest, content.Size, content.ContentSize, content.Files,
                content.Basename, content.Mode, content.ContentType, Copy(request.Metadata), _clock.GetUtcNow(), _options.Actor, content.TreeDigest);
            if (await _ledger.ReplaceAsync(key, head, ArtifactJson.Default.HeadRecord, current?.ETag, ct) is PutOutcome.Written written)
            {
                if (written.Object.ETag is { } etag) _ledger.Cache.PutHead(request.Name, etag, head);
                _reporter.Info($"staged {request.Name} ({TransferProgress.Size(content.Size)}, {content.Digest[..19]}…) in {watch.Elapsed.TotalSeconds:0.00} s");
                return new StageResult(request.Name, content.Kind, content.Digest, content.Size, content.ContentSize, content.Files, content.Blob, uploaded,
                    current?.Record.Digest, watch.Elapsed.TotalSeconds);
            }
            await Jitter(attempt, ct);
        }
        throw S3PodException.Conflict($"the head of {request.Name} kept changing under {MaxAttempts} attempts to replace it");
    }

    /// <summary>
    /// Publish protocol: read the head and its ETag, then commit a version record pointing at the
    /// head's content with <c>fromHead</c> = that ETag, as push does. Publishing one head is
    /// idempotent: the latest version and every version that beat this publish are checked, and one
    /// made from the same head ETag is returned instead of creating another, so concurrent publishes
    /// of one head make one version. <c>--if-changed</c>: nothing happens when the head's digest is
    /// the latest version's.
    /// </summary>
    public async Task<PushResult> PublishAsync(PublishRequest request, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        await _ledger.RequireWritableAsync(ct);
        var scheme = await _ledger.SchemeAsync(request.Name, ct) ?? throw NoSuchArtifact(request.Name);
        VersionRules.Validate(scheme, request.Version);
        // The head's content becomes a version's: gc must not take it between reading the head and the commit.
        await using var intent = await BeginWriteAsync(ct);
        var (head, headETag) = await _ledger.HeadAsync(request.Name, listed: null, ct)
            ?? throw S3PodException.NotFound($"{request.Name} has no staged head to publish (use `s3pod artifact stage`)");
        if (request.IfChanged)
        {
            var listing = await _ledger.ListVersionsAsync(request.Name, ct);
            if (VersionRules.Max(listing.Live(scheme)) is { } latest && await _ledger.VersionAsync(request.Name, latest.Text, ct) is { } latestRecord && latestRecord.Content.SameContentAs(head.Content))
            {
                _reporter.Info($"{request.Name}: the head equals version {latest}; nothing published");
                return ToPushResult(latestRecord, uploaded: false, published: false, [], 0, watch);
            }
        }

        HashSet<string>? seen = null;
        async Task<VersionRecord?> SameHead(ArtifactListing listing)
        {
            // First the latest (a publish that finished before this one read the listing), then every
            // version that appeared since (those that beat this one).
            var live = listing.Live(scheme);
            var toCheck = seen is null ? live.TakeLast(1).ToList() : live.Where(v => !seen.Contains(v.Text)).ToList();
            seen ??= new HashSet<string>(live.Select(v => v.Text), StringComparer.Ordinal);
            foreach (var v in toCheck)
            {
                seen.Add(v.Text);
                if (await _ledger.VersionAsync(request.Name, v.Text, ct) is { } r && r.FromHead == headETag.Trim('"')) return r;
            }
            return null;
        }

        var (record, attempts) = await CommitAsync(request.Name, scheme, request.Version, head.Content, head.Metadata ?? [], headETag.Trim('"'), SameHead, ct);
        await intent.DisposeAsync();
        bool mine = attempts > 0;
        _reporter.Info(mine
            ? $"published the head of {request.Name} as version {record.Version}"
            : $"the head of {request.Name} was already published as version {record.Version} (by a concurrent publish)");
        await MoveAliasesAsync(request.Name, record.Version, request.Aliases, ct);
        return ToPushResult(record, uploaded: false, published: true, request.Aliases, attempts, watch);
    }

    /// <summary>
    /// The commit point: writes the version record create-only, recomputing the candidate from a
    /// fresh listing after every loss. <paramref name="sameHead"/> (publish) may return a version
    /// another writer already made from the same head; then nothing is written and attempts is 0.
    /// </summary>
    private async Task<(VersionRecord Record, int Attempts)> CommitAsync(string name, VersionScheme scheme, VersionRequest request, ContentRef content,
        IReadOnlyDictionary<string, string> metadata, string? fromHead, Func<ArtifactListing, Task<VersionRecord?>>? sameHead, CancellationToken ct)
    {
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var listing = await _ledger.ListVersionsAsync(name, ct);
            if (sameHead is not null && await sameHead(listing) is { } existing) return (existing, 0);
            var version = VersionRules.Next(scheme, request, listing.Taken(scheme), _clock.GetUtcNow(), name);
            var record = NewVersionRecord(name, version, scheme, content, metadata, fromHead);
            if (await _ledger.CreateAsync(ArtifactLayout.Version(name, version.Text), record, ArtifactJson.Default.VersionRecord, ct) is PutOutcome.Written)
            {
                _ledger.Cache.PutVersion(record);
                return (record, attempt);
            }
            if (!request.IsRelative) throw S3PodException.Conflict($"version {version} of {name} was created meanwhile by another writer");
            _reporter.Info($"{name}:{version} was taken by a concurrent writer; trying the next version");
            await Jitter(attempt, ct);
        }
        throw S3PodException.Conflict($"{name}: {MaxAttempts} versions in a row were taken by concurrent writers; try again");
    }

    /// <summary>What gc collects, in <see cref="CollectionGuard"/>'s terms.</summary>
    public const string BlobNamespace = "artifact-blobs";

    private CollectionGuard Guard => new(Store, _clock, _options.Actor, _options.Guard);

    /// <summary>Declares to gc that this process is about to upload or rely on blobs (see <see cref="CollectionGuard"/>).</summary>
    private Task<WriteIntent> BeginWriteAsync(CancellationToken ct) =>
        Guard.BeginWriteAsync(BlobNamespace, ct, _reporter.Info);

    private static Task Jitter(int attempt, CancellationToken ct) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20 + 15 * Math.Min(attempt, 10))), ct);

    private async Task MoveAliasesAsync(string name, string version, IReadOnlyList<string> aliases, CancellationToken ct)
    {
        foreach (var alias in aliases)
        {
            try
            {
                await SetAliasAsync(new AliasSetRequest(name, alias, version, null, null, null), ct);
            }
            catch (S3PodException e)
            {
                throw new S3PodException(e.Kind, $"{name}:{version} is committed, but moving the alias {alias} failed: {e.Message}", e);
            }
        }
    }

    /// <summary>The scheme a write uses: the artifact's (a different <c>--scheme</c> is a usage error), or the requested one (default int) for a new artifact.</summary>
    private async Task<(VersionScheme Scheme, bool Exists)> SchemeForWriteAsync(string name, string? requested, CancellationToken ct)
    {
        var wanted = requested is null ? null : VersionScheme.Parse(requested);
        var existing = await _ledger.SchemeAsync(name, ct);
        if (existing is not null && wanted is not null && wanted != existing)
            throw S3PodException.Usage($"{name} uses the {existing.Name} scheme (fixed when it was created), not {wanted.Name}");
        return (existing ?? wanted ?? VersionScheme.Int, existing is not null);
    }

    private async Task CreateArtifactAsync(string name, VersionScheme scheme, CancellationToken ct)
    {
        var record = NewArtifactRecord(name, scheme);
        if (await _ledger.CreateAsync(ArtifactLayout.ArtifactRecord(name), record, ArtifactJson.Default.ArtifactRecord, ct) is PutOutcome.Written)
        {
            _ledger.Cache.PutArtifact(record);
            return;
        }
        // Created meanwhile by a concurrent first push: it must have chosen the same scheme.
        var actual = await _ledger.SchemeAsync(name, ct);
        if (actual != scheme)
            throw S3PodException.Conflict($"{name} was created meanwhile with the {actual?.Name} scheme, not {scheme.Name}; the content was uploaded but no version was committed");
    }

    private ArtifactRecord NewArtifactRecord(string name, VersionScheme scheme) =>
        new(ArtifactRecord.CurrentSchema, name, scheme.Name, _clock.GetUtcNow(), _options.Actor);

    private VersionRecord NewVersionRecord(string name, ArtifactVersion version, VersionScheme scheme, ContentRef content, IReadOnlyDictionary<string, string> metadata, string? fromHead) =>
        new(VersionRecord.CurrentSchema, name, version.Text, scheme.Name, content.Kind, content.Blob, content.Digest, content.Size, content.ContentSize, content.Files,
            content.Basename, content.Mode, content.ContentType, _clock.GetUtcNow(), _options.Actor, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), fromHead, Copy(metadata), content.TreeDigest);

    private static Dictionary<string, string>? Copy(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Count == 0 ? null : new Dictionary<string, string>(metadata, StringComparer.Ordinal);

    private static PushResult ToPushResult(VersionRecord record, bool uploaded, bool published, IReadOnlyList<string> aliases, int attempts, Stopwatch watch) =>
        new(record.Name, record.Version, record.Scheme, record.Kind, record.Digest, record.Size, record.ContentSize, record.Files, record.Blob,
            uploaded, published, aliases, attempts, watch.Elapsed.TotalSeconds);

    private static S3PodException NoSuchArtifact(string name) => S3PodException.NotFound($"artifact {name} does not exist");

    /// <summary>True for a directory; a usage error for anything that is neither a directory nor a regular file.</summary>
    private bool CheckSource(string source)
    {
        if (Directory.Exists(source)) return true;
        LocalFiles.CheckRegularFile(_fileSystem, source);
        return false;
    }

    /// <summary>
    /// Uploads the content before anything points at it. Files are content-addressed: when the blob
    /// is there already (and recent, see <see cref="ReuseWindow"/>) nothing is sent. Directories are
    /// streamed (tar | zstd | multipart upload, nothing staged on disk) to a key of this writer's own,
    /// since their digest is only known at the end of the stream.
    /// </summary>
    private async Task<(ContentRef Content, bool Uploaded)> UploadAsync(string name, string source, bool isDirectory, string? contentType, int level, bool reuse, CancellationToken ct)
    {
        return isDirectory
            ? await UploadDirectoryAsync(name, source, contentType, level, reuse, ct)
            : await UploadFileAsync(name, source, contentType, reuse, ct);
    }

    private async Task<(ContentRef, bool)> UploadFileAsync(string name, string source, string? contentType, bool reuse, CancellationToken ct)
    {
        // The mode of what a symlink finally points at (CheckSource followed the chain the same way).
        var target = File.ResolveLinkTarget(source, returnFinalTarget: true)?.FullName ?? source;
        int mode = _fileSystem.TryGetInfo(target, out var info) ? info.Permissions : 0x1A4;
        var file = await LocalFiles.OpenSourceAsync(_fileSystem, source, ct);
        await using (file.Stream)
        {
            var content = new ContentRef(ContentRef.FileKind, ArtifactLayout.FileBlob(file.Sha256), "sha256:" + file.Sha256, file.Length, null, null,
                Path.GetFileName(source), ModeBits.Format(mode), contentType ?? "application/octet-stream");
            var key = ArtifactLayout.BlobKey(content.Blob);
            var existing = reuse ? await Store.HeadAsync(key, ct) : null;
            if (existing is not null && existing.Size == file.Length && existing.LastModified > _clock.GetUtcNow() - ReuseWindow)
                return (content, false);
            using var progress = _reporter.Progress($"upload {name}", file.Length);
            // Content-addressed: replacing an object with the same bytes is harmless, and renews an old
            // or damaged copy; a new key is written create-only.
            var outcome = await Store.PutAsync(key, new HashingReadStream(file.Stream, file.Sha256, file.Length, source, FailureKind.Operational), new PutOptions
            {
                Condition = reuse && existing is null ? WriteCondition.IfAbsent : WriteCondition.None,
                Length = file.Length,
                Metadata = new Dictionary<string, string> { [MetadataKeys.Sha256] = file.Sha256 },
                ContentType = content.ContentType,
                Progress = progress.Report,
            }, ct);
            return (content, outcome is PutOutcome.Written);
        }
    }

    private async Task<(ContentRef, bool)> UploadDirectoryAsync(string name, string source, string? contentType, int level, bool reuse, CancellationToken ct)
    {
        var blob = ArtifactLayout.StreamedBlob(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
        ArchiveStats? stats = null;
        HashingReadStream? hashed = null;
        using (var progress = _reporter.Progress($"upload {name}", null))
        {
            await StreamPipe.RunAsync(
                async (output, token) => stats = await TarZstd.PackDirectoryAsync(_fileSystem, source, output, level, token, treeDigest: true),
                async (input, token) =>
                {
                    hashed = new HashingReadStream(input);
                    return await Store.PutAsync(ArtifactLayout.BlobKey(blob), hashed, new PutOptions
                    {
                        Condition = reuse ? WriteCondition.IfAbsent : WriteCondition.None,
                        Metadata = new Dictionary<string, string> { [MetadataKeys.Format] = "artifact+tar+zstd/1" },
                        ContentType = contentType ?? DirectoryContentType,
                        Progress = progress.Report,
                    }, token);
                }, ct);
        }
        var content = new ContentRef(ContentRef.DirectoryKind, blob, "sha256:" + hashed!.Sha256, hashed.BytesRead, stats!.UncompressedBytes,
            stats.Files + stats.Symlinks + stats.HardLinks, null, null, contentType ?? DirectoryContentType, "sha256:" + stats.TreeDigest);
        return (content, true);
    }
}
