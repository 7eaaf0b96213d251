using S3Pod.Commands;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using S3Pod.Storage;

namespace S3Pod.IntegrationTests;

/// <summary>What only the S3 store does: error translation, what goes over the wire, and interop
/// with the AWS CLI and rclone in both directions.</summary>
public sealed class S3BehaviourTests
{
    private static byte[] Data(int n, int seed = 7)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static async Task<byte[]> ReadAll(IObjectStore store, string key)
    {
        await using var opened = await store.OpenReadAsync(key, ReadOptions.Default, default) ?? throw new Xunit.Sdk.XunitException($"{key} not found");
        var ms = new MemoryStream();
        await opened.Content.CopyToAsync(ms);
        return ms.ToArray();
    }

    /// <summary>An object rewritten shorter between the look-up and the body read is "changed", on
    /// every server: Ceph refuses the pinned If-Match (412); s3rver ignores it and answers the range
    /// past the new end with 416, which racing cache saves met reading their manifest back.</summary>
    [SkippableFact]
    public async Task AnObjectRewrittenShorter_WhileOpened_IsChanged_NotAnError()
    {
        S3Server.SkipIfAbsent();
        await using var store = await S3Server.NewStoreAsync();
        var first = Data(4000);
        await store.PutAsync("m.json", new MemoryStream(first), new PutOptions { Length = first.Length }, default);
        await using var opened = await store.OpenReadAsync("m.json", ReadOptions.Default, default) ?? throw new Xunit.Sdk.XunitException("not found");
        await store.PutAsync("m.json", new MemoryStream(Data(10, seed: 8)), new PutOptions { Length = 10 }, default);
        var e = await Assert.ThrowsAsync<StorageException>(() => opened.Content.CopyToAsync(Stream.Null));
        Assert.Equal(StorageFailure.Changed, e.Failure);
    }

    [SkippableFact]
    public async Task MissingBucket_IsOperationalError_NamingTheBucket()
    {
        S3Server.SkipIfAbsent();
        await using var store = new S3ObjectStore(new S3Target(S3Server.Endpoint, S3Server.Region, "s3pod-no-such-bucket-x", "", new StaticCredentials(S3Server.KeyId, S3Server.Secret)));
        var e = await Assert.ThrowsAsync<StorageException>(() => store.HeadAsync("k", default));
        Assert.Equal(StorageFailure.MissingBucket, e.Failure);
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("s3pod-no-such-bucket-x", e.Message);
        Assert.Contains("does not exist", e.Message);
        e = await Assert.ThrowsAsync<StorageException>(() => store.CheckAccessAsync(default));
        Assert.Contains("does not exist", e.Message);
    }

    [SkippableFact]
    public async Task WrongSecret_IsCredentialsError_WithoutTheSecret()
    {
        S3Server.SkipIfAbsent();
        await using var good = await S3Server.NewStoreAsync();
        var bucket = good.Location.Split('/')[2];
        const string wrong = "definitely-not-the-secret-0123456789";
        await using var store = new S3ObjectStore(new S3Target(S3Server.Endpoint, S3Server.Region, bucket, "", new StaticCredentials(S3Server.KeyId, wrong)));
        var e = await Assert.ThrowsAsync<StorageException>(() => store.PutAsync("k", new MemoryStream([1]), new PutOptions(), default));
        Assert.Equal(StorageFailure.Credentials, e.Failure);
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.DoesNotContain(wrong, e.Message);
        Assert.Matches("credentials|access denied", e.Message);
    }

    [SkippableFact]
    public async Task UnreachableEndpoint_IsOperationalError_Quickly()
    {
        S3Server.SkipIfAbsent();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        await using var store = new S3ObjectStore(new S3Target($"http://127.0.0.1:{port}", "us-east-1", "bkt", "", new StaticCredentials("a", "b")));
        var e = await Assert.ThrowsAsync<StorageException>(() => store.HeadAsync("k", default));
        Assert.True(e.IsUnreachable);
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("cannot reach", e.Message);
    }

    [SkippableFact]
    public async Task NoAwsChunkedBodiesOrChecksumTrailers_OnAnyRequest()
    {
        S3Server.SkipIfAbsent();
        await using var setup = await S3Server.NewStoreAsync();
        var bucket = setup.Location.Split('/')[2];
        await using var proxy = new RecordingProxy(new Uri(S3Server.Endpoint!));
        await using var store = new S3ObjectStore(new S3Target(proxy.Url, S3Server.Region, bucket, "wire", new StaticCredentials(S3Server.KeyId, S3Server.Secret)));
        var zeros = new byte[25 * 1024 * 1024];
        await store.PutAsync("single", new MemoryStream(zeros, 0, 1000), new PutOptions(), default);
        await store.PutAsync("multi", new ObjectStoreContractTests.NonSeekable(new MemoryStream(zeros)), new PutOptions(), default);
        Assert.Equal(zeros.Length, (await ReadAll(store, "multi")).Length);
        var wire = proxy.ClientBytes();
        Assert.Contains("uploadId=", wire); // the multipart path really ran
        Assert.Contains("partNumber=", wire);
        foreach (var forbidden in new[] { "aws-chunked", "STREAMING-", "x-amz-trailer", "x-amz-checksum-", "x-amz-sdk-checksum" })
            Assert.DoesNotContain(forbidden, wire, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public async Task ObjectsWeWrite_ReadByteExact_ByAwsCliAndRclone()
    {
        S3Server.SkipIfAbsent();
        await using var store = await S3Server.NewStoreAsync(prefix: "interop");
        var bucket = store.Location.Split('/')[2];
        var big = Data(21 * 1024 * 1024);
        await store.PutAsync("ours/big", new ObjectStoreContractTests.NonSeekable(new MemoryStream(big)), new PutOptions(), default);
        var small = Encoding.UTF8.GetBytes("small object\n");
        await store.PutAsync("ours/small", new MemoryStream(small), new PutOptions(), default);

        var aws = S3Server.Peer(S3Server.Aws, ["--endpoint-url", S3Server.Endpoint!, "s3", "cp", $"s3://{bucket}/interop/ours/big", "-"]);
        Assert.True(aws.Code == 0, aws.Stderr);
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(aws.Stdout));

        var rclone = S3Server.Peer("rclone", ["cat", $"t:{bucket}/interop/ours/small"]);
        Assert.True(rclone.Code == 0, rclone.Stderr);
        Assert.Equal(small, rclone.Stdout);
        var rcloneBig = S3Server.Peer("rclone", ["cat", $"t:{bucket}/interop/ours/big"]);
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(rcloneBig.Stdout));
    }

    [SkippableFact]
    public async Task ObjectsOthersWrite_ReadByteExact_ByUs()
    {
        S3Server.SkipIfAbsent();
        await using var store = await S3Server.NewStoreAsync(prefix: "interop");
        var bucket = store.Location.Split('/')[2];
        var big = Data(22 * 1024 * 1024, seed: 3);
        var aws = S3Server.Peer(S3Server.Aws, ["--endpoint-url", S3Server.Endpoint!, "s3", "cp", "-", $"s3://{bucket}/interop/theirs/aws-big"], big);
        Assert.True(aws.Code == 0, aws.Stderr);
        Assert.Equal(SHA256.HashData(big), SHA256.HashData(await ReadAll(store, "theirs/aws-big")));

        var text = Encoding.UTF8.GetBytes("from rclone\n");
        var rclone = S3Server.Peer("rclone", ["rcat", $"t:{bucket}/interop/theirs/rclone"], text);
        Assert.True(rclone.Code == 0, rclone.Stderr);
        Assert.Equal(text, await ReadAll(store, "theirs/rclone"));
        Assert.Null((await store.HeadAsync("theirs/rclone", default))!.Sha256); // not ours: no recorded digest, still readable
    }
}
