using System.Diagnostics;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests.Regressions;

/// <summary>
/// Issue 9, defect 2: a file that changes while `upload` reads it. Either the upload fails (exit 2,
/// no object left), or it stores what it read with that content's true digest; in no case may a
/// later `download` of the key exit 5 (which would also make every re-upload skip).
/// </summary>
[Collection(Exclusive.Name)]
public sealed class ChangingSourceTests
{
    private const long FiftyMegabytes = 50_000_000;

    [SkippableTheory]
    // Growth is capped (150 MiB more) so a reader that follows the file forever cannot fill tmpfs.
    [InlineData("growing", "for i in $(seq 150); do head -c 1048576 /dev/urandom >> \"$1\"; done")]
    [InlineData("same-size rewrite", "while :; do dd if=/dev/urandom of=\"$1\" bs=1000000 count=50 conv=notrunc status=none; done")]
    public async Task FileChangingDuringUpload_FailsCleanly_OrStoresItsTrueDigest(string name, string writerScript)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var file = Path.Combine(box.Work, "changing.bin");
        File.WriteAllBytes(file, Tree.RandomBytes(FiftyMegabytes));
        using var writer = Process.Start(new ProcessStartInfo("bash", ["-c", writerScript, "bash", file]))!;
        S3PodRun upload;
        try
        {
            await Task.Delay(100); // the writer is at work before the upload starts
            upload = await box.DirectAsync("upload", "changing.bin", file, "--json");
        }
        finally
        {
            writer.Kill(entireProcessTree: true);
            await writer.WaitForExitAsync();
        }
        await CheckAsync(box, $"2 · upload of a {name} 50 MB file", upload, "changing.bin");
    }

    [SkippableFact]
    public async Task ProcFile_WithSizeZeroButContent_FailsCleanly_OrStoresItsTrueDigest()
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var upload = await box.DirectAsync("upload", "status", "/proc/self/status", "--json");
        await CheckAsync(box, "2 · upload /proc/self/status", upload, "status");
    }

    private static async Task CheckAsync(Sandbox box, string caseName, S3PodRun upload, string key)
    {
        var v = Contract.Check(upload, upload.Code == 0 ? Expectation.Succeeds : Expectation.FailsWith(), json: true);
        if (upload.Code == 2)
        {
            if (await box.Bucket.MetadataAsync(key) is not null) v.Add(new("half-written", "the upload failed but left the object"));
        }
        else if (upload.Code == 0)
        {
            var stored = await box.Bucket.GetAsync(key);
            var recorded = (await box.Bucket.MetadataAsync(key))?.GetValueOrDefault("s3pod-sha256");
            if (stored is null) v.Add(new("corrupt", "upload exit 0 but no object"));
            else if (recorded != Tree.Sha256(stored)) v.Add(new("corrupt", $"stored {stored.Length} bytes with sha256 {Tree.Sha256(stored)[..12]}…, recorded {recorded?[..Math.Min(12, recorded.Length)]}…"));
            var download = await box.DirectAsync("download", key, "downloaded.bin");
            if (download.Code != 0) v.Add(new("corrupt", $"a later download exits {download.Code}: {download.Headline}"));
        }
        ResultLog.Record("regression", caseName, "exit 2 + no object, or true digest", upload, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + upload);
    }
}
