using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Regressions;

/// <summary>
/// Issue 16, write-only pushers: every object a write-only push writes carries
/// <c>x-amz-acl: bucket-owner-full-control</c> (so the bucket owner can read it where objects belong
/// to their uploader; NativeTests' write-only test checks that on Ceph RGW), and a server with no
/// object ACLs (s3rver, as AWS buckets with "bucket owner enforced") accepts the header.
/// </summary>
public sealed class OwnerAclTests
{
    [SkippableTheory]
    [InlineData("s3rver")]
    [InlineData("ceph")]
    public async Task WriteOnlyPush_SendsBucketOwnerFullControl_AndTheServerAcceptsIt(string serverName)
    {
        var server = Servers.Get(serverName);
        await using var box = await Sandbox.CreateAsync(server);
        File.WriteAllText(Path.Combine(box.Work, "app.bin"), "build 1\n");
        // A fault that changes nothing, on the requests that carry the header: the proxy counts them.
        await using var proxy = new FaultProxy(new Uri(server.Endpoint))
            .Add(new RequestMatch { Method = "PUT", HeaderHas = ["x-amz-acl"] }, new Fault.Throttle(1L << 30), times: FaultRule.Always);
        var run = await box.ThroughAsync(proxy, "artifact", "push", "app", "app.bin", "--write-only", "--scheme", "date", "--json");
        var v = Contract.Check(run, Expectation.Succeeds, json: true);
        var puts = proxy.Requests.Where(r => r.Method == "PUT").ToList();
        var marked = puts.Count(r => r.Fault is not null);
        // The blob, _artifact.json and the version record.
        if (puts.Count < 3 || marked != puts.Count) v.Add(new("failed", $"{marked} of {puts.Count} PUTs carried x-amz-acl"));
        var cat = await box.DirectAsync("artifact", "cat", "app:latest");
        if (cat.Code != 0 || cat.Out != "build 1\n") v.Add(new("failed", $"the pushed version does not read back: {cat}"));
        ResultLog.Record("regression", $"16 · write-only push · owner ACL · {serverName}", "success, header sent and accepted", run, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run + "\n" + proxy.Describe());
    }
}
