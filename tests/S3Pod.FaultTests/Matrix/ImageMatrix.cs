using System.Text.Json;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests.Matrix;

/// <summary><c>save --docker-image</c>: the image's <c>docker save</c> stream as chunks; the faults hit chunk PUTs.</summary>
internal sealed class ImageSaveOperation(Size size, string baseImage) : Operation(size)
{
    private readonly string _tag = $"s3pod-fault/isave-{Guid.NewGuid():N}"[..34] + ":1";
    public override string Name => "save --docker-image";
    public override bool Uploads => true;
    public override string DataPath => "/chunks/sha256/";
    public override bool Chunked => true;
    public override bool LargeUploadIsOnePut => true;
    public override string[] Args => ["save", "--key", "fault-image", "--docker-image", _tag];

    public override Task PrepareAsync(Sandbox box)
    {
        Docker.Tag(baseImage, _tag);
        return Task.CompletedTask;
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override async Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        // Untagged, then a direct restore: after success the same image; after a failure a clean
        // miss or the same image (never an entry that fails every restore).
        var id = Docker.ImageId(_tag);
        Docker.Untag(_tag);
        var r = await box.DirectAsync("restore", "--key", "fault-image", "--docker-image", _tag, "--json");
        if (r.Code != 0)
            return [succeeded ? Corrupt($"a direct restore exits {r.Code}: {r.Headline}") : HalfWritten($"the failed save left an entry that a restore refuses (exit {r.Code}: {r.Headline})")];
        bool hit = JsonDocument.Parse(r.Out).RootElement.GetProperty("restored").GetBoolean();
        if (!hit) return succeeded ? [Corrupt("saved, but a direct restore misses")] : [];
        if (Docker.ImageId(_tag) != id) return [Corrupt("a direct restore loads a different image")];
        if (!succeeded) return [];
        using var doc = TryParse(run.Out);
        return doc?.RootElement.TryGetProperty("saved", out var saved) == true && !saved.GetBoolean()
            ? [new("unclear", "reported not saved (exists) although nothing else wrote the key")]
            : [];
    }

    public override void Cleanup() => Docker.Untag(_tag);
}

/// <summary><c>restore --docker-image</c>: the chunks streamed into <c>docker load</c>; the faults hit chunk GETs.</summary>
internal sealed class ImageRestoreOperation(Size size, string baseImage) : Operation(size)
{
    private readonly string _tag = $"s3pod-fault/irest-{Guid.NewGuid():N}"[..34] + ":1";
    private string? _id;
    public override string Name => "restore --docker-image";
    public override bool Uploads => false;
    public override string DataPath => "/chunks/sha256/";
    public override bool Chunked => true;
    public override bool LargeUploadIsOnePut => true;
    // --fail-on-miss: a restore that gives up and calls it a miss must not look like success.
    public override string[] Args => ["restore", "--key", "fault-image", "--docker-image", _tag, "--fail-on-miss"];

    public override async Task PrepareAsync(Sandbox box)
    {
        Docker.Tag(baseImage, _tag);
        _id = Docker.ImageId(_tag);
        var save = await box.DirectAsync("save", "--key", "fault-image", "--docker-image", _tag);
        if (save.Code != 0) throw new InvalidOperationException("setup: " + save);
        Docker.Untag(_tag);
    }

    public override IEnumerable<string> WatchedDirs(Sandbox box) => [box.Work];

    public override Task<List<Violation>> VerifyAsync(Sandbox box, S3PodRun run, bool succeeded)
    {
        var now = Docker.ImageId(_tag);
        if (succeeded)
            return Task.FromResult(now == _id ? new List<Violation>() : [Corrupt($"after the restore {_tag} is {now ?? "absent"}, not {_id}")]);
        return Task.FromResult(now is null ? new List<Violation>() : [HalfWritten($"{_tag} was loaded although the restore failed")]);
    }

    public override void Cleanup() => Docker.Untag(_tag);
}

public sealed class ImageSaveMatrix(LargeImage images) : IClassFixture<LargeImage>
{
    // Chunk PUTs are single PUTs: the multipart-only faults cannot apply.
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: true, largeUploadIsOnePut: true);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task ImageSave(string fault, Size size)
    {
        Servers.RequireDocker();
        return MatrixRunner.RunCaseAsync(new ImageSaveOperation(size, images.For(size)), FaultCases.Find(true, fault));
    }
}

public sealed class ImageRestoreMatrix(LargeImage images) : IClassFixture<LargeImage>
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: false);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task ImageRestore(string fault, Size size)
    {
        Servers.RequireDocker();
        return MatrixRunner.RunCaseAsync(new ImageRestoreOperation(size, images.For(size)), FaultCases.Find(false, fault));
    }
}
