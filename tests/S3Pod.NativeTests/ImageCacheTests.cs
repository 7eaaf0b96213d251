using System.Text.Json;

namespace S3Pod.NativeTests;

/// <summary>Docker images as chunked cache entries (<c>save/restore --docker-image</c>) through the
/// native binary, the real Docker engine and the real server: layers shared between images are
/// uploaded once, restore keys, --update of an unchanged image, a corrupt chunk.</summary>
public sealed class ImageCacheTests
{
    private static JsonElement Json(Run r) => JsonDocument.Parse(r.Out).RootElement;

    private static void SkipWithoutDocker()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("docker-in-wine: s3pod.exe starts docker as a Windows program, and the Linux docker CLI is not one");
        Skip.If(Environment.GetEnvironmentVariable("S3POD_TEST_DOCKER") != "1", "no Docker engine: S3POD_TEST_DOCKER is not 1 (tests/servers/docker.sh starts one)");
    }

    /// <summary>Test images built locally (there is no registry): FROM a base or scratch, one file
    /// of random bytes each. Removed when disposed, by tag and by ID (a retagged image is left untagged).</summary>
    private sealed class Images(Binary b) : IDisposable
    {
        private readonly string _run = Guid.NewGuid().ToString("N")[..12];
        private readonly List<string> _names = new();

        public string Build(string name, string from, int megabytes)
        {
            var tag = $"s3pod-test/{name}-{_run}:1";
            var dir = Path.Combine(b.Root, "build-" + name);
            Directory.CreateDirectory(dir);
            var bytes = new byte[megabytes << 20];
            Random.Shared.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(dir, name + ".bin"), bytes);
            File.WriteAllText(Path.Combine(dir, "Dockerfile"), $"FROM {from}\nCOPY {name}.bin /{name}.bin\n");
            // The legacy builder: the test engine has no BuildKit, and nothing here needs it.
            var r = b.Shell($"DOCKER_BUILDKIT=0 docker build -q -t {tag} . 2>&1", dir);
            Assert.True(r.Code == 0, r.All);
            _names.Add(tag);
            _names.Add(Id(tag)!);
            return tag;
        }

        /// <summary>The image's ID, or null when the engine has no image of that tag or ID.</summary>
        public string? Id(string tagOrId)
        {
            var r = b.Shell($"docker image inspect --format '{{{{.Id}}}}' {tagOrId} 2>/dev/null");
            return r.Code == 0 ? r.Out.Trim() : null;
        }

        public void Remove(string tag) => b.Shell($"docker rmi {tag} >/dev/null");

        public void Dispose()
        {
            foreach (var name in Enumerable.Reverse(_names)) b.Shell($"docker rmi -f {name} >/dev/null 2>&1 || true");
        }
    }

    [SkippableFact]
    public void SecondImageSharingABase_UploadsOnlyItsOwnLayer_RestoresByRestoreKey_AndAnUnchangedUpdateWritesNothing()
    {
        SkipWithoutDocker();
        using var b = new Binary();
        b.CreateBucket();
        using var images = new Images(b);
        var baseTag = images.Build("base", "scratch", 40);
        var a = images.Build("app-a", baseTag, 1);
        var bb = images.Build("app-b", baseTag, 1);

        var ra = b.Exec("save", "--key", "img-a-1", "--docker-image", a, "--json");
        Assert.True(ra.Code == 0, ra.All);
        var sa = Json(ra);
        Assert.True(sa.GetProperty("saved").GetBoolean(), ra.Out);
        Assert.True(sa.GetProperty("uploadedBytes").GetInt64() >= 40L << 20, ra.Out); // random bytes: the base is uploaded whole once
        Assert.Equal(a, sa.GetProperty("image").GetString());

        // Another image (another version, another key) on the same base: only its own layer and the
        // chunks around the stream's seams go up.
        var rb = b.Exec("save", "--key", "img-b-1", "--docker-image", bb, "--json");
        Assert.True(rb.Code == 0, rb.All);
        var sb = Json(rb);
        Assert.True(sb.GetProperty("saved").GetBoolean(), rb.Out);
        Assert.True(sb.GetProperty("uploadedBytes").GetInt64() <= 4L << 20, rb.Out);
        Assert.True(sb.GetProperty("reusedBytes").GetInt64() >= 35L << 20, rb.Out); // most of the base

        var inspect = b.Exec("inspect", "img-b-1", "--json");
        Assert.True(inspect.Code == 0, inspect.All);
        Assert.Equal(bb, Json(inspect).GetProperty("entries")[0].GetProperty("manifest").GetProperty("image").GetString());

        // Gone from the engine, back by restore key, with the same image ID.
        var id = images.Id(bb);
        Assert.NotNull(id);
        images.Remove(bb);
        Assert.Null(images.Id(bb));
        var lookup = b.Exec("restore", "--key", "img-b-2", "--restore-key", "img-b-", "--docker-image", bb, "--lookup-only", "--json");
        Assert.True(lookup.Code == 0, lookup.All);
        Assert.Equal("img-b-1", Json(lookup).GetProperty("matchedKey").GetString());
        Assert.Null(images.Id(bb)); // lookup-only loads nothing
        var restored = b.Exec("restore", "--key", "img-b-2", "--restore-key", "img-b-", "--docker-image", bb, "--fail-on-miss", "--json");
        Assert.True(restored.Code == 0, restored.All);
        var rr = Json(restored);
        Assert.Equal("img-b-1", rr.GetProperty("matchedKey").GetString());
        Assert.False(rr.GetProperty("exactMatch").GetBoolean());
        Assert.True(rr.GetProperty("restored").GetBoolean(), restored.Out);
        Assert.Equal(id, images.Id(bb));
        Assert.Equal(id, rr.GetProperty("imageId").GetString());

        // A restore key never matches another image's entries; the miss says what is there.
        var other = b.Exec("restore", "--key", "img-b-1", "--docker-image", a, "--fail-on-miss", "--json");
        Assert.True(other.Code == 3, other.All);
        Assert.Contains($"image {bb}", other.All);

        var explain = b.Exec("explain", "--key", "img-b-3", "--restore-key", "img-b-", "--docker-image", bb, "--json");
        Assert.True(explain.Code == 0, explain.All);
        Assert.Equal("img-b-1", Json(explain).GetProperty("matchedKey").GetString());

        // --update with the image as saved: nothing is written (the chunk store is as it was).
        string Chunks() => b.Shell($"{Binary.Aws} s3 ls --recursive s3://$BUCKET/chunks/ | awk '{{print $4}}' | sort").Out;
        var before = Chunks();
        var same = b.Exec("save", "--key", "img-b-1", "--docker-image", bb, "--update", "--json");
        Assert.True(same.Code == 0, same.All);
        var su = Json(same);
        Assert.False(su.GetProperty("saved").GetBoolean(), same.Out);
        Assert.Equal("unchanged", su.GetProperty("skippedReason").GetString());
        Assert.Equal(before, Chunks());

        // --update with another image under that tag: replaced, and A's layers are reused.
        Assert.Equal(0, b.Shell($"docker tag {a} {bb}").Code);
        var changed = b.Exec("save", "--key", "img-b-1", "--docker-image", bb, "--update", "--json");
        Assert.True(changed.Code == 0, changed.All);
        var sc = Json(changed);
        Assert.True(sc.GetProperty("saved").GetBoolean() && sc.GetProperty("updated").GetBoolean(), changed.Out);
        Assert.True(sc.GetProperty("uploadedBytes").GetInt64() <= 4L << 20, changed.Out);
        Assert.Equal(images.Id(a), sc.GetProperty("imageId").GetString());
    }

    [SkippableFact]
    public void ASaveInAScopeWithNoImages_StartsFromTheImageThisRunnerLastRestored()
    {
        SkipWithoutDocker();
        using var b = new Binary();
        b.CreateBucket();
        using var images = new Images(b);
        var baseTag = images.Build("base", "scratch", 40);
        var a = images.Build("app-a", baseTag, 1);
        var bb = images.Build("app-b", baseTag, 1);
        Assert.Equal(0, b.Exec("save", "--key", "img-a", "--docker-image", a, "--scope", "main").Code);
        images.Remove(a);
        var restored = b.Exec("restore", "--key", "img-a", "--docker-image", a, "--scope", "main", "--fail-on-miss");
        Assert.True(restored.Code == 0, restored.All);

        // A pull request's scope holds no image entry: what the store has comes from the restore above
        // (another image, on the same base).
        var r = b.Exec("save", "--key", "img-b", "--docker-image", bb, "--scope", "refs/pull/1/merge", "--json");
        Assert.True(r.Code == 0, r.All);
        Assert.True(Json(r).GetProperty("uploadedBytes").GetInt64() <= 4L << 20, r.Out);
    }

    [SkippableFact]
    public void CorruptChunk_Exit5_AndTheImageIsNotLoaded()
    {
        SkipWithoutDocker();
        using var b = new Binary();
        b.CreateBucket();
        using var images = new Images(b);
        var tag = images.Build("corrupt", "scratch", 4);
        var saved = b.Exec("save", "--key", "img", "--docker-image", tag, "--json");
        Assert.True(saved.Code == 0, saved.All);
        var id = images.Id(tag)!;
        images.Remove(tag);

        // A chunk inside the layer, neither the first nor the last: the load has already taken part of
        // the stream when the bad chunk arrives, and must be stopped, not given an end.
        var manifest = b.Shell($"{Binary.Aws} s3 ls --recursive s3://$BUCKET/caches/ | awk '{{print $4}}' | grep '\\.json$'").Out.Trim();
        var digests = b.Shell($"{Binary.Aws} s3 cp s3://$BUCKET/{manifest} - | jq -r '.chunks[].sha256'").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(digests.Length >= 4, string.Join(",", digests));
        var d = digests[digests.Length / 2];
        var chunk = $"chunks/sha256/{d[..2]}/{d}";
        var corrupt = b.Shell($"{Binary.Aws} s3 cp s3://$BUCKET/{chunk} c.zst && printf 'garbage' | dd of=c.zst bs=1 seek=200 conv=notrunc 2>/dev/null && {Binary.Aws} s3 cp c.zst s3://$BUCKET/{chunk}");
        Assert.True(corrupt.Code == 0, corrupt.Err);

        var r = b.Exec("restore", "--key", "img", "--docker-image", tag);
        Assert.True(r.Code == 5, r.All);
        Assert.Contains("corrupt", r.Err);
        // Neither tagged nor loaded untagged (docker 20.10 loads a stream that ends cleanly before its
        // manifest.json as an untagged image).
        Assert.Null(images.Id(tag));
        Assert.Null(images.Id(id));
    }

    [SkippableFact]
    public void DockerImageWithPath_IsAUsageError()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        foreach (var command in new[] { "save", "restore", "explain" })
        {
            var r = b.Exec(command, "--key", "k", "--docker-image", "app:1", "--path", "deps");
            Assert.True(r.Code == 2, r.All);
            Assert.Contains("--docker-image and --path cannot be used together", r.Err);
            Assert.Single(r.Err.Trim().Split('\n'));
        }
        var neither = b.Exec("save", "--key", "k");
        Assert.True(neither.Code == 2, neither.All);
        Assert.Contains("--path", neither.Err);
    }
}
