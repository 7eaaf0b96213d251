using System.Text.Json;

namespace S3Pod.NativeTests;

/// <summary>Artifacts through the native binary and Ceph RGW: interop with the standard tools, write-only pushers, the local cache.</summary>
public sealed class ArtifactTests
{
    private static JsonElement Json(Run r)
    {
        Assert.True(r.Code == 0, r.All);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    private static string Listing(Binary b, string dir) =>
        b.Shell($"cd '{dir}' && find . -mindepth 1 -printf '%p|%y|%m|%s|%l\\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum").Out;

    [SkippableFact]
    public void PulledVersions_AreByteIdentical_AlsoThroughTheAwsCli()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("Linux symlinks (Wine shows one as the file it points to) and POSIX modes, which the listing compares");
        using var b = new Binary();
        b.CreateBucket();
        // Over the 16 MiB single-PUT limit: a multipart upload, read back with ranged GETs.
        var big = new byte[20 << 20];
        new Random(42).NextBytes(big);
        var file = b.WriteFile("model.bin", big);
        var pushed = Json(b.Exec("artifact", "push", "models/big", file, "--json"));
        Assert.Equal(0, b.Exec("artifact", "pull", "models/big:1", "-o", "pulled.bin").Code);
        Assert.Equal(big, File.ReadAllBytes(Path.Combine(b.Work, "pulled.bin")));
        var aws = b.Shell($"{Binary.Aws} s3 cp --only-show-errors s3://$BUCKET/blobs/{pushed.GetProperty("blob").GetString()} fromaws.bin && sha256sum fromaws.bin");
        Assert.True(aws.Code == 0, aws.Err);
        Assert.StartsWith(pushed.GetProperty("digest").GetString()![7..], aws.Out);

        var src = Path.Combine(b.Work, "site");
        b.WriteFile("site/index.html", "<h1>hi</h1>");
        b.WriteFile("site/assets/app.js", "console.log(1)");
        File.CreateSymbolicLink(Path.Combine(src, "latest.js"), "assets/app.js");
        var tree = Json(b.Exec("artifact", "push", "site", src, "--json"));
        Assert.Equal("directory", tree.GetProperty("kind").GetString());
        Assert.Equal(0, b.Exec("artifact", "pull", "site", "-o", "ours").Code);
        Assert.Equal(Listing(b, src), Listing(b, Path.Combine(b.Work, "ours")));
        var std = b.Shell($"mkdir std && {Binary.Aws} s3 cp s3://$BUCKET/blobs/{tree.GetProperty("blob").GetString()} - | zstd -d | tar -x -C std");
        Assert.True(std.Code == 0, std.Err);
        Assert.Equal(Listing(b, src), Listing(b, Path.Combine(b.Work, "std")));
        var sub = b.Exec("artifact", "pull", "site:1[assets]", "--json");
        Assert.Equal(Path.Combine(b.Work, "assets"), Json(sub).GetProperty("path").GetString());
        Assert.Equal(["app.js"], Directory.GetFiles(Path.Combine(b.Work, "assets")).Select(Path.GetFileName));
        var missing = b.Exec("artifact", "pull", "site:1[nope]");
        Assert.Equal(1, missing.Code);
        Assert.Contains("'nope'", missing.Err);
    }

    /// <summary><c>alias rollback</c>: back to the version before the last move, guarded by the
    /// current one, with the same JSON result as <c>alias set</c>.</summary>
    [SkippableFact]
    public void AliasRollback_RestoresThePreviousVersion_AndLosesToARacingMove()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var file = b.WriteFile("f.txt", "x");
        for (int i = 0; i < 3; i++) Assert.Equal(0, b.Exec("artifact", "push", "app", file, "--version", (i + 1).ToString()).Code);
        Assert.Equal(0, b.Exec("artifact", "alias", "set", "app", "prod", "1").Code);
        var none = b.Exec("artifact", "alias", "rollback", "app", "prod");
        Assert.Equal(1, none.Code);
        Assert.Contains("no previous version", none.Err);
        Assert.Equal(1, b.Exec("artifact", "alias", "rollback", "app", "staging").Code);
        Assert.Equal(0, b.Exec("artifact", "alias", "set", "app", "prod", "2").Code);

        var back = Json(b.Exec("artifact", "alias", "rollback", "app", "prod", "--json"));
        Assert.Equal("1", back.GetProperty("version").GetString());
        Assert.Equal("2", back.GetProperty("previousVersion").GetString());
        Assert.True(back.GetProperty("changed").GetBoolean());
        Assert.Equal("app", back.GetProperty("name").GetString());
        Assert.Equal("prod", back.GetProperty("alias").GetString());
        Assert.Equal("2\n", b.Exec("artifact", "alias", "rollback", "app", "prod").Out); // undoes the rollback

        var stale = b.Exec("artifact", "alias", "rollback", "app", "prod", "--expect", "3");
        Assert.Equal(4, stale.Code);
        Assert.Contains("not 3 as expected", stale.Err);
        Assert.Equal("prod\t2", b.Exec("artifact", "alias", "list", "app").Out.Trim());
    }

    [SkippableFact]
    public void Path_OfACachedPinnedVersion_MakesNoRequest()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var tool = b.WriteFile("tool", "#!/bin/sh\necho ok\n");
        File.SetUnixFileMode(tool, (UnixFileMode)0x1ED);
        Assert.Equal(0, b.Exec("artifact", "push", "tools/ok", tool).Code);
        var first = Json(b.Exec("artifact", "path", "tools/ok:1", "--json"));
        Assert.True(first.GetProperty("downloaded").GetBoolean());
        var path = first.GetProperty("path").GetString()!;
        // Executable, read-only; Windows has no execute bit, so under Wine the file is not executable on Linux.
        if (!Binary.Wine) Assert.Equal("ok\n", b.Shell($"'{path}'").Out);
        // Credentials the server would reject: any request would fail, a pinned version answers from the local caches alone.
        b.Env["S3POD_S3_SECRET"] = "not-the-secret";
        var second = Json(b.Exec("artifact", "path", "tools/ok:1", "--json"));
        Assert.True(second.GetProperty("offline").GetBoolean());
        Assert.Equal(path, second.GetProperty("path").GetString());
        var latest = b.Exec("artifact", "path", "tools/ok");
        Assert.Equal(2, latest.Code); // latest always asks the store
    }

    /// <summary>
    /// sacker's write-only CI pushers: a user that may only PutObject under blobs/ and artifacts/
    /// (a bucket policy; Get, List and Delete denied) pushes date-scheme versions; the bucket owner
    /// reads them with no grant in the policy, because write-only pushes give every object to the
    /// bucket owner (x-amz-acl: bucket-owner-full-control; on RGW objects belong to their uploader).
    /// </summary>
    [SkippableFact]
    public void WriteOnlyPusher_WithAPutObjectOnlyUser_OnCephRgw()
    {
        Binary.SkipIfAbsent();
        Skip.IfNot(Binary.ServerEnforces("create-only"), "write-only pushers rely on the server enforcing create-only writes (Ceph RGW)");
        var conf = Environment.GetEnvironmentVariable("S3POD_TEST_CEPH_CONF")
            ?? Path.Combine(Environment.GetEnvironmentVariable("S3POD_CEPH_DIR") ?? "/tmp/s3pod-ceph", "ceph.conf");
        Skip.IfNot(File.Exists(conf), $"no Ceph config at {conf} to create a user with radosgw-admin (set S3POD_TEST_CEPH_CONF or S3POD_CEPH_DIR)");
        using var b = new Binary();
        b.CreateBucket();
        var uid = $"s3pod-wo-{Guid.NewGuid():N}"[..20];
        var keyId = $"WO{Guid.NewGuid():N}"[..20].ToUpperInvariant();
        var secret = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        var user = b.Shell($"radosgw-admin -c '{conf}' -n client.admin user create --uid={uid} --display-name=write-only --access-key={keyId} --secret-key={secret}");
        Skip.If(user.Code != 0, $"radosgw-admin could not create a user: {user.Err.Trim()}");
        try
        {
            var owner = b.Shell($"{Binary.Aws} s3api get-bucket-acl --bucket $BUCKET --query Owner.ID --output text").Out.Trim();
            Assert.False(string.IsNullOrEmpty(owner));
            // What the README shows: PutObject under the two prefixes and nothing else for the pusher
            // (RGW lets a user read what it uploaded unless told otherwise, hence the explicit Deny).
            // No statement for the owner: the objects' ACL must be what lets it read.
            var policy = $$"""
                {"Version": "2012-10-17", "Statement": [
                  {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/{{uid}}"]}, "Action": ["s3:PutObject"],
                   "Resource": ["arn:aws:s3:::{{b.Bucket}}/ci/blobs/*", "arn:aws:s3:::{{b.Bucket}}/ci/artifacts/*"]},
                  {"Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam:::user/{{uid}}"]}, "Action": ["s3:GetObject", "s3:ListBucket", "s3:DeleteObject"],
                   "Resource": ["arn:aws:s3:::{{b.Bucket}}", "arn:aws:s3:::{{b.Bucket}}/*"]}]}
                """;
            File.WriteAllText(Path.Combine(b.Work, "policy.json"), policy);
            var put = b.Shell($"{Binary.Aws} s3api put-bucket-policy --bucket $BUCKET --policy file://policy.json");
            Assert.True(put.Code == 0, put.Err);

            var pusher = new Dictionary<string, string>(b.Env) { ["S3POD_S3_KEY_ID"] = keyId, ["S3POD_S3_SECRET"] = secret, ["S3POD_PREFIX"] = "ci" };
            Run AsPusher(params string[] args)
            {
                var saved = new Dictionary<string, string>(b.Env);
                b.Env.Clear();
                foreach (var (k, v) in pusher) b.Env[k] = v;
                try { return b.Exec(args); }
                finally { b.Env.Clear(); foreach (var (k, v) in saved) b.Env[k] = v; }
            }

            var build = b.WriteFile("build/app.tar", "build 1");
            var first = AsPusher("artifact", "push", "app", build, "--write-only", "--scheme", "date", "--json");
            var firstVersion = Json(first).GetProperty("version").GetString()!;
            // The same content again (the blob exists: it is written again, harmlessly), in the same second or not.
            var second = AsPusher("artifact", "push", "app", build, "--write-only", "--scheme", "date", "--json");
            var secondVersion = Json(second).GetProperty("version").GetString()!;
            Assert.NotEqual(firstVersion, secondVersion);
            // The pusher can read nothing, so neither reads nor a normal push (which reads) get anywhere.
            var read = AsPusher("artifact", "versions", "app");
            Assert.Equal(2, read.Code);
            Assert.Contains("access denied", read.Err);
            var normal = AsPusher("artifact", "push", "app", build);
            Assert.Equal(2, normal.Code);
            Assert.Contains("access denied", normal.Err);

            b.Env["S3POD_PREFIX"] = "ci";
            var versions = Json(b.Exec("artifact", "versions", "app", "--json"));
            Assert.Equal("date", versions.GetProperty("scheme").GetString());
            Assert.Equal(new[] { firstVersion, secondVersion }.Order(StringComparer.Ordinal).Reverse(),
                versions.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
            Assert.Equal("build 1", b.Exec("artifact", "cat", $"app:{firstVersion}").Out);
            // The owner's grant is on the objects themselves.
            var acl = b.Shell($"{Binary.Aws} s3api get-object-acl --bucket $BUCKET --key ci/artifacts/app/_versions/{firstVersion}.json --output json");
            Assert.True(acl.Code == 0, acl.Err);
            Assert.Contains(owner, acl.Out);
            Assert.Contains("FULL_CONTROL", acl.Out);
        }
        finally
        {
            b.Shell($"radosgw-admin -c '{conf}' -n client.admin user rm --uid={uid}");
        }
    }
}

