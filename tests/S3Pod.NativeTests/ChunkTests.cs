using System.Diagnostics;
using System.Text.Json;

namespace S3Pod.NativeTests;

/// <summary>Chunked cache entries through the native binary and the real server: concurrent saves
/// against a collecting prune, racing updates, corruption, a killed save, restoring without s3pod.</summary>
public sealed class ChunkTests
{
    /// <summary>A tree of <paramref name="files"/> random files of 64 KB under <c>dir/deps</c>; <paramref name="variant"/> changes one of them.</summary>
    private static void MakeTree(string dir, int files, int variant)
    {
        var random = new Random(42);
        Directory.CreateDirectory(Path.Combine(dir, "deps"));
        for (int i = 0; i < files; i++)
        {
            var bytes = new byte[64_000];
            random.NextBytes(bytes);
            if (i == variant % files) bytes[100] ^= (byte)(1 + variant);
            File.WriteAllBytes(Path.Combine(dir, "deps", $"f{i:000}.bin"), bytes);
        }
    }

    private static string Digest(Binary b, string dir) =>
        b.Shell($"cd '{dir}/deps' && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum").Out;

    private static JsonElement Json(Run r) => JsonDocument.Parse(r.Out).RootElement;

    private static string StartOk(Process p)
    {
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, output + err.Result);
        return output;
    }

    [SkippableFact]
    public void ConcurrentSaves_SharingChunks_WithPruneGraceZeroRunning_EverySavedEntryRestoresExactly()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        // Entries the prunes evict, so that their chunks (shared with the saves below) become collectable.
        for (int v = 0; v < 2; v++)
        {
            var dir = Path.Combine(b.Work, $"old{v}");
            MakeTree(dir, 60, 100 + v);
            var r = b.ExecIn(dir, null, "save", "--key", $"evict-{v}", "--path", "deps");
            Assert.True(r.Code == 0, r.All);
        }
        var saves = Enumerable.Range(0, 5).Select(i =>
        {
            var dir = Path.Combine(b.Work, $"job{i}");
            MakeTree(dir, 60, i);
            return (Dir: dir, Digest: Digest(b, dir));
        }).ToList();
        var running = new List<(int I, Process P)>();
        var prunes = new List<Process>();
        for (int i = 0; i < saves.Count; i++)
        {
            prunes.Add(b.Start("prune", "--older-than", "0s", "--key-prefix", "evict-", "--grace", "0s", "--json"));
            running.Add((i, StartIn(b, saves[i].Dir, "save", "--key", $"job-{i}", "--path", "deps", "--json")));
        }
        foreach (var p in prunes) StartOk(p);
        var saved = new List<int>();
        foreach (var (i, p) in running)
        {
            var json = JsonDocument.Parse(StartOk(p)).RootElement;
            if (json.GetProperty("saved").GetBoolean()) saved.Add(i);
        }
        Assert.Equal(5, saved.Count);
        // One more collection after everything: nothing an entry needs may go.
        var last = b.Exec("prune", "--older-than", "0s", "--key-prefix", "evict-", "--grace", "0s", "--json");
        Assert.True(last.Code == 0, last.All);
        foreach (var i in saved)
        {
            var dest = Path.Combine(b.Work, $"restore{i}");
            Directory.CreateDirectory(dest);
            var r = b.ExecIn(dest, null, "restore", "--key", $"job-{i}", "--path", "deps", "--fail-on-miss");
            Assert.True(r.Code == 0, r.All);
            Assert.Equal(saves[i].Digest, Digest(b, dest));
        }
    }

    private static Process StartIn(Binary b, string cwd, params string[] args)
    {
        var psi = Binary.StartInfo();
        psi.WorkingDirectory = cwd;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        psi.Environment.Clear();
        foreach (var (k, v) in b.Env) psi.Environment[k] = v;
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [SkippableFact]
    public void TwoUpdatesRace_ExactlyOneWins_AndTheEntryIsWhollyTheWinners()
    {
        Binary.SkipIfAbsent();
        Skip.IfNot(Binary.ServerEnforces("compare-and-swap"), "this server does not enforce If-Match: --update is refused there (exit 2)");
        using var b = new Binary();
        b.CreateBucket();
        var baseDir = Path.Combine(b.Work, "base");
        MakeTree(baseDir, 20, 0);
        Assert.Equal(0, b.ExecIn(baseDir, null, "save", "--key", "roll", "--path", "deps", "--update").Code);
        var a = Path.Combine(b.Work, "a");
        var c = Path.Combine(b.Work, "c");
        // Large enough that each update is still uploading when the other reads the manifest.
        MakeTree(a, 300, 1);
        MakeTree(c, 300, 2);
        File.WriteAllBytes(Path.Combine(a, "deps", "only-a"), new byte[] { 1 });
        var pa = StartIn(b, a, "save", "--key", "roll", "--path", "deps", "--update", "--json");
        var pc = StartIn(b, c, "save", "--key", "roll", "--path", "deps", "--update", "--json");
        var ra = JsonDocument.Parse(StartOk(pa)).RootElement;
        var rc = JsonDocument.Parse(StartOk(pc)).RootElement;
        var winners = new[] { ra, rc }.Count(r => r.GetProperty("saved").GetBoolean());
        Assert.Equal(1, winners);
        var loser = ra.GetProperty("saved").GetBoolean() ? rc : ra;
        Assert.Equal("updated-meanwhile", loser.GetProperty("skippedReason").GetString());
        var dest = Path.Combine(b.Work, "dest");
        Directory.CreateDirectory(dest);
        Assert.Equal(0, b.ExecIn(dest, null, "restore", "--key", "roll", "--path", "deps", "--fail-on-miss").Code);
        Assert.Equal(Digest(b, ra.GetProperty("saved").GetBoolean() ? a : c), Digest(b, dest));
    }

    [SkippableFact]
    public void CorruptChunk_Exit5_NothingWrittenToTheDestination_AndAnEntryRestoresWithoutS3pod()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var src = Path.Combine(b.Work, "src");
        MakeTree(src, 40, 0);
        Assert.Equal(0, b.ExecIn(src, null, "save", "--key", "k", "--path", "deps").Code);

        // Interop: the chunks of a manifest, concatenated in order, are one tar.zst stream.
        var manifest = b.Shell($"{Binary.Aws} s3 ls --recursive s3://$BUCKET/caches/ | awk '{{print $4}}' | grep '\\.json$'").Out.Trim();
        var plain = b.Shell($"mkdir plain && {Binary.Aws} s3 cp s3://$BUCKET/{manifest} - | jq -r '.chunks[].sha256' | " +
            $"while read d; do {Binary.Aws} s3 cp s3://$BUCKET/chunks/sha256/${{d:0:2}}/$d -; done | zstd -d | tar -x -C plain");
        Assert.True(plain.Code == 0, plain.Err);
        // Entry names are the cache paths as recorded (relative to the workspace), so find where deps landed.
        var landed = b.Shell("dirname \"$(dirname \"$(find plain -name f000.bin)\")\"").Out.Trim();
        Assert.Equal(Digest(b, src), Digest(b, Path.Combine(b.Work, landed)));

        var chunk = b.Shell($"{Binary.Aws} s3 ls --recursive s3://$BUCKET/chunks/ | awk '{{print $4}}' | sort | head -1").Out.Trim();
        var corrupt = b.Shell($"{Binary.Aws} s3 cp s3://$BUCKET/{chunk} c.zst && printf 'garbage' | dd of=c.zst bs=1 seek=200 conv=notrunc 2>/dev/null && {Binary.Aws} s3 cp c.zst s3://$BUCKET/{chunk}");
        Assert.True(corrupt.Code == 0, corrupt.Err);
        var dest = Path.Combine(b.Work, "dest");
        Directory.CreateDirectory(dest);
        var r = b.ExecIn(dest, null, "restore", "--key", "k", "--path", "deps");
        Assert.True(r.Code == 5, r.All);
        Assert.Contains("corrupt", r.Err);
        Assert.Empty(Directory.GetFileSystemEntries(dest));
    }

    [SkippableFact]
    public void KilledSave_LeavesNoEntryReferencingAMissingChunk()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var src = Path.Combine(b.Work, "src");
        MakeTree(src, 600, 0);
        foreach (var delayMs in new[] { 150, 400, 900 })
        {
            var p = StartIn(b, src, "save", "--key", $"killed-{delayMs}", "--path", "deps");
            Thread.Sleep(delayMs);
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        // Whatever was committed names only chunks that exist; what was not is a miss.
        var check = b.Shell($"{Binary.Aws} s3 ls --recursive s3://$BUCKET/ > all.txt; " +
            $"for m in $(awk '{{print $4}}' all.txt | grep '^caches/.*\\.json$' || true); do {Binary.Aws} s3 cp s3://$BUCKET/$m - | jq -r '.chunks[].sha256' | " +
            "while read d; do grep -q \"chunks/sha256/${d:0:2}/$d\" all.txt || echo MISSING $d; done; done");
        Assert.True(check.Code == 0, check.Err);
        Assert.DoesNotContain("MISSING", check.Out);
    }
}
