using System.Text.Json;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests.Matrix;

/// <summary>Small objects go in one PUT / one GET; large ones (&gt; 16 MiB) as 8 MiB parts and ranges.</summary>
public enum Size { Small, Large }

/// <summary>
/// One storage-touching command of the binary, as a matrix row: it prepares its inputs (directly on
/// the server), names the command run through the proxy, and checks the destination afterwards:
/// byte-exact after a success, untouched after a failure.
/// </summary>
internal abstract class Operation(Size size)
{
    /// <summary>Large: three 8 MiB parts or ranges, the last one 4 MiB, so a cut 256 KiB in hits any of them.</summary>
    public static long Bytes(Size size) => size == Size.Small ? (1 << 20) + 7 : (20 << 20) + 12_345;

    public Size Size { get; } = size;
    protected long DataBytes => Bytes(Size);

    public abstract string Name { get; }

    /// <summary>True when data flows to the store (upload, dir upload, save, docker upload).</summary>
    public abstract bool Uploads { get; }

    /// <summary>Part of the decoded path of the requests that carry the data (the rules aim at them).</summary>
    public abstract string DataPath { get; }

    /// <summary>True when a large upload of this command goes as one streamed PUT, not as parts: a
    /// create-only upload of a file of known length does on a server that enforces conditions on single
    /// PUTs only (Ceph RGW), since its CompleteMultipartUpload would ignore them (issue 9, defect 1).</summary>
    public virtual bool LargeUploadIsOnePut => false;

    /// <summary>The data goes as content-addressed chunks (save, restore): single PUTs and GETs of at
    /// most 2 MiB each, never parts or ranges.</summary>
    public virtual bool Chunked => false;

    public virtual string Cwd(Sandbox box) => box.Work;

    public abstract Task PrepareAsync(Sandbox box);

    /// <summary>The command under test, without --json (the matrix adds it).</summary>
    public abstract string[] Args { get; }

    /// <summary>Directories where a temp file of this command would appear, and the one name in them
    /// that may change (the destination itself).</summary>
    public abstract IEnumerable<string> WatchedDirs(Sandbox box);

    public virtual string? DestinationName => null;

    /// <summary>Byte-exact destination after success; after a failure, nothing half-written.</summary>
    public abstract Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded);

    public virtual void Cleanup() { }

    public override string ToString() => $"{Name} {Size.ToString().ToLowerInvariant()}";

    /// <summary>An upload to a key nobody else writes must say it uploaded, not that it skipped.</summary>
    protected static List<Violation> ReportedUploaded(S3PodRun run)
    {
        using var doc = TryParse(run.Out);
        return doc?.RootElement.TryGetProperty("skipped", out var s) == true && s.GetBoolean()
            ? [new("unclear", "reported skipped (key exists) although nothing else wrote the key")]
            : [];
    }

    protected static JsonDocument? TryParse(string json)
    {
        try { return JsonDocument.Parse(json); } catch (JsonException) { return null; }
    }

    protected static Violation Corrupt(string detail) => new("corrupt", detail);
    protected static Violation HalfWritten(string detail) => new("half-written", detail);

    /// <summary>After a failed upload the key holds nothing, or a complete object that reads back right.</summary>
    protected static async Task<List<Violation>> UploadedObjectAbsentOrRight(Sandbox box, string key, Func<Task<string?>> readsBackRight)
    {
        if (await box.Bucket.MetadataAsync(key) is null) return [];
        var problem = await readsBackRight();
        return problem is null ? [] : [HalfWritten($"{key} exists after the failure and {problem}")];
    }
}

internal sealed class UploadOperation(Size size) : Operation(size)
{
    private byte[] _data = [];
    public override string Name => "upload";
    public override bool Uploads => true;
    public override string DataPath => "/obj/file.bin";
    public override bool LargeUploadIsOnePut => true;
    public override string[] Args => ["upload", "obj/file.bin", "src.bin"];

    public override Task PrepareAsync(Sandbox box)
    {
        _data = Tree.RandomBytes(DataBytes);
        File.WriteAllBytes(Path.Combine(box.Work, "src.bin"), _data);
        return Task.CompletedTask;
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override async Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        if (!succeeded) return await UploadedObjectAbsentOrRight(box, "obj/file.bin", () => Check(box));
        return await Check(box) is { } problem ? [Corrupt(problem)] : ReportedUploaded(run);
    }

    private async Task<string?> Check(Sandbox box)
    {
        var stored = await box.Bucket.GetAsync("obj/file.bin");
        if (stored is null) return "the object is not there";
        if (!stored.AsSpan().SequenceEqual(_data)) return $"the stored object ({stored.Length} bytes) differs from the file ({_data.Length} bytes)";
        var meta = await box.Bucket.MetadataAsync("obj/file.bin");
        if (meta?.GetValueOrDefault("s3pod-sha256") is { } sha && sha != Tree.Sha256(_data)) return $"recorded sha256 {sha} is not the file's";
        return null;
    }
}

internal sealed class DownloadOperation(Size size) : Operation(size)
{
    private byte[] _data = [];
    private const string Previous = "the previous version of the file\n";
    public override string Name => "download";
    public override bool Uploads => false;
    public override string DataPath => "/obj/file.bin";
    public override string[] Args => ["download", "obj/file.bin", "out/file.bin"];
    public override string? DestinationName => "file.bin";

    public override async Task PrepareAsync(Sandbox box)
    {
        _data = Tree.RandomBytes(DataBytes);
        var src = Path.Combine(box.Root, "src.bin");
        File.WriteAllBytes(src, _data);
        var up = await box.DirectAsync("upload", "obj/file.bin", src);
        if (up.Code != 0) throw new InvalidOperationException("setup: " + up);
        Directory.CreateDirectory(Path.Combine(box.Work, "out"));
        File.WriteAllText(Path.Combine(box.Work, "out/file.bin"), Previous);
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [Path.Combine(box.Work, "out"), box.Work];

    public override Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        var got = File.ReadAllBytes(Path.Combine(box.Work, "out/file.bin"));
        if (succeeded)
            return Task.FromResult(got.AsSpan().SequenceEqual(_data) ? new List<Violation>() : [Corrupt($"out/file.bin has {got.Length} bytes that are not the object's {_data.Length}")]);
        return Task.FromResult(got.AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(Previous)) ? new List<Violation>() : [HalfWritten($"out/file.bin changed ({got.Length} bytes) although the download failed")]);
    }
}

internal sealed class DirUploadOperation(Size size) : Operation(size)
{
    public override string Name => "dir upload";
    public override bool Uploads => true;
    public override string DataPath => "/obj/tree.tzst";
    public override string[] Args => ["dir", "upload", "obj/tree.tzst", "tree"];

    public override Task PrepareAsync(Sandbox box)
    {
        Tree.WriteRandom(Path.Combine(box.Work, "tree"), DataBytes);
        return Task.CompletedTask;
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override async Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        if (!succeeded) return await UploadedObjectAbsentOrRight(box, "obj/tree.tzst", () => ReadsBack(box));
        return await ReadsBack(box) is { } problem ? [Corrupt(problem)] : ReportedUploaded(run);
    }

    /// <summary>A direct `dir download` of the key gives the source tree back.</summary>
    private async Task<string?> ReadsBack(Sandbox box)
    {
        var check = Path.Combine(box.Root, "check-" + Guid.NewGuid().ToString("N")[..6]);
        var r = await box.DirectInAsync(box.Root, "dir", "download", "obj/tree.tzst", check);
        if (r.Code != 0) return $"a direct dir download of it exits {r.Code}: {r.Headline}";
        return Tree.Snapshot(check) == Tree.Snapshot(Path.Combine(box.Work, "tree")) ? null : "it restores to a different tree";
    }
}

internal sealed class DirDownloadOperation(Size size) : Operation(size)
{
    private string _expected = "";
    private string _before = "";
    public override string Name => "dir download";
    public override bool Uploads => false;
    public override string DataPath => "/obj/tree.tzst";
    public override string[] Args => ["dir", "download", "obj/tree.tzst", "dest"];
    public override string? DestinationName => "dest";

    public override async Task PrepareAsync(Sandbox box)
    {
        var src = Path.Combine(box.Root, "src-tree");
        Tree.WriteRandom(src, DataBytes);
        var up = await box.DirectAsync("dir", "upload", "obj/tree.tzst", src);
        if (up.Code != 0) throw new InvalidOperationException("setup: " + up);
        // The destination has a file of its own, which a restore merges with and a failure keeps.
        var dest = Directory.CreateDirectory(Path.Combine(box.Work, "dest")).FullName;
        File.WriteAllText(Path.Combine(dest, "keep.txt"), "mine\n");
        _expected = Tree.Snapshot(src);
        _before = Tree.Snapshot(dest);
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        var dest = Path.Combine(box.Work, "dest");
        var v = new List<Violation>();
        if (succeeded)
        {
            if (Tree.SnapshotWithout(dest, "keep.txt") != _expected) v.Add(Corrupt("dest does not hold the archived tree"));
            if (!File.Exists(Path.Combine(dest, "keep.txt"))) v.Add(Corrupt("dest lost its own keep.txt"));
        }
        else if (Tree.Snapshot(dest) != _before)
        {
            v.Add(HalfWritten("dest changed although the download failed"));
        }
        return Task.FromResult(v);
    }
}

internal sealed class SaveOperation(Size size) : Operation(size)
{
    public override string Name => "save";
    public override bool Uploads => true;
    // Saves store chunks (chunks/sha256/...): the faults hit chunk PUTs and GETs.
    public override string DataPath => "/chunks/sha256/";
    public override bool Chunked => true;
    public override bool LargeUploadIsOnePut => true;
    public override string[] Args => ["save", "--key", "fault-cache", "--path", "data"];

    public override Task PrepareAsync(Sandbox box)
    {
        Tree.WriteRandom(Path.Combine(box.Work, "data"), DataBytes);
        return Task.CompletedTask;
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override async Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        // A direct restore in another job's workspace: after success a byte-exact hit; after a
        // failure a clean miss or a byte-exact hit (never an entry that fails every restore).
        var job = Directory.CreateDirectory(Path.Combine(box.Root, "job-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var r = await box.DirectInAsync(job, "restore", "--key", "fault-cache", "--path", "data", "--json");
        if (r.Code != 0)
            return [succeeded ? Corrupt($"a direct restore exits {r.Code}: {r.Headline}") : HalfWritten($"the failed save left an entry that a restore refuses (exit {r.Code}: {r.Headline})")];
        bool hit = JsonDocument.Parse(r.Out).RootElement.GetProperty("restored").GetBoolean();
        if (!hit) return succeeded ? [Corrupt("saved, but a direct restore misses")] : [];
        if (Tree.Snapshot(Path.Combine(job, "data")) != Tree.Snapshot(Path.Combine(box.Work, "data"))) return [Corrupt("a direct restore gives a different tree")];
        if (!succeeded) return [];
        var v = new List<Violation>();
        if (!(await box.Bucket.KeysAsync("caches/")).Any(k => k.EndsWith(".json", StringComparison.Ordinal)))
            v.Add(HalfWritten("the archive was stored without its manifest"));
        using var doc = TryParse(run.Out);
        if (doc?.RootElement.TryGetProperty("saved", out var saved) == true && !saved.GetBoolean())
            v.Add(new("unclear", "reported not saved (exists) although nothing else wrote the key"));
        return v;
    }
}

internal sealed class RestoreOperation(Size size) : Operation(size)
{
    private string _expected = "";
    private string _before = "";
    public override string Name => "restore";
    public override bool Uploads => false;
    // Saves store chunks (chunks/sha256/...): the faults hit chunk PUTs and GETs.
    public override string DataPath => "/chunks/sha256/";
    public override bool Chunked => true;
    public override bool LargeUploadIsOnePut => true;
    // --fail-on-miss: a restore that gives up and calls it a miss must not look like success.
    public override string[] Args => ["restore", "--key", "fault-cache", "--path", "data", "--fail-on-miss"];
    public override string? DestinationName => "data";

    public override async Task PrepareAsync(Sandbox box)
    {
        var job = Directory.CreateDirectory(Path.Combine(box.Root, "saving-job")).FullName;
        Tree.WriteRandom(Path.Combine(job, "data"), DataBytes);
        var save = await box.DirectInAsync(job, "save", "--key", "fault-cache", "--path", "data");
        if (save.Code != 0) throw new InvalidOperationException("setup: " + save);
        var data = Directory.CreateDirectory(Path.Combine(box.Work, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "keep.txt"), "mine\n");
        _expected = Tree.Snapshot(Path.Combine(job, "data"));
        _before = Tree.Snapshot(data);
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        var data = Path.Combine(box.Work, "data");
        var v = new List<Violation>();
        if (succeeded)
        {
            if (Tree.SnapshotWithout(data, "keep.txt") != _expected) v.Add(Corrupt("data/ does not hold the saved tree"));
        }
        else if (Tree.Snapshot(data) != _before)
        {
            v.Add(HalfWritten("data/ changed although the restore failed"));
        }
        return Task.FromResult(v);
    }
}

internal sealed class DockerUploadOperation(Size size, string baseImage) : Operation(size)
{
    private readonly string _tag = $"s3pod-fault/up-{Guid.NewGuid():N}"[..32] + ":1";
    public override string Name => "docker upload";
    public override bool Uploads => true;
    public override string DataPath => "/img/image.tzst";
    public override string[] Args => ["docker", "upload", "img/image.tzst", _tag];

    public override Task PrepareAsync(Sandbox box)
    {
        Docker.Tag(baseImage, _tag);
        return Task.CompletedTask;
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override async Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        if (!succeeded) return await UploadedObjectAbsentOrRight(box, "img/image.tzst", () => LoadsBack(box));
        return await LoadsBack(box) is { } problem ? [Corrupt(problem)] : ReportedUploaded(run);
    }

    /// <summary>Untag, then a direct `docker download` must bring the same image back under the tag.</summary>
    private async Task<string?> LoadsBack(Sandbox box)
    {
        var id = Docker.ImageId(_tag);
        Docker.Untag(_tag);
        var r = await box.DirectAsync("docker", "download", "img/image.tzst");
        if (r.Code != 0) return $"a direct docker download of it exits {r.Code}: {r.Headline}";
        return Docker.ImageId(_tag) == id ? null : "it loads as a different image";
    }

    public override void Cleanup() => Docker.Untag(_tag);
}

internal sealed class DockerDownloadOperation(Size size, string baseImage) : Operation(size)
{
    private readonly string _tag = $"s3pod-fault/down-{Guid.NewGuid():N}"[..34] + ":1";
    private string? _id;
    public override string Name => "docker download";
    public override bool Uploads => false;
    public override string DataPath => "/img/image.tzst";
    public override string[] Args => ["docker", "download", "img/image.tzst"];

    public override async Task PrepareAsync(Sandbox box)
    {
        Docker.Tag(baseImage, _tag);
        _id = Docker.ImageId(_tag);
        var up = await box.DirectAsync("docker", "upload", "img/image.tzst", _tag);
        if (up.Code != 0) throw new InvalidOperationException("setup: " + up);
        Docker.Untag(_tag);
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        var now = Docker.ImageId(_tag);
        if (succeeded)
            return Task.FromResult(now == _id ? new List<Violation>() : [Corrupt($"after the download {_tag} is {now ?? "absent"}, not {_id}")]);
        return Task.FromResult(now is null ? new List<Violation>() : [HalfWritten($"{_tag} was loaded although the download failed")]);
    }

    public override void Cleanup() => Docker.Untag(_tag);
}
