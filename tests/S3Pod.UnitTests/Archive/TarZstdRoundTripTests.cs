using S3Pod.Commands;
using Xunit;
using S3Pod.Archive;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Archive;

/// <remarks>Unix modes, symlinks and /-paths throughout: not run on Windows (the README's "Platforms" says what differs there).</remarks>
[Trait("Requires", "unix")]
public class TarZstdRoundTripTests
{
    /// <summary>What extraction is documented to change: setuid/setgid are dropped.</summary>
    private static SortedDictionary<string, string> WithoutSetuid(SortedDictionary<string, string> snap)
    {
        var copy = new SortedDictionary<string, string>(snap, StringComparer.Ordinal);
        copy["bin/suid"] = copy["bin/suid"].Replace("mode=4755", "mode=755");
        return copy;
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task RoundTrip_KeepsTypesModesLinksSizesMtimesAndContent(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        string src = t.Sub("src"), dst = t.Sub("dst");
        MakeRichTree(src);
        var before = Snapshot(src);

        var bytes = await PackToBytesAsync(src, fs: fs);
        var stats = await TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(bytes), dst, CancellationToken.None);

        AssertSameTree(WithoutSetuid(before), Snapshot(dst));
        Assert.Equal(2, stats.HardLinks);
        Assert.Equal(5, stats.Symlinks);
        Assert.True(stats.Files >= 11);
        Assert.Empty(Directory.GetDirectories(t.Path, ".s3pod-stage-*", SearchOption.AllDirectories));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Pack_StoresHardLinksOnce_AndCountsPayload(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        string src = t.Sub("src");
        MakeRichTree(src);
        var ms = new MemoryStream();
        var stats = await TarZstd.PackDirectoryAsync(fs, src, ms, 3, CancellationToken.None);
        Assert.Equal(2, stats.HardLinks);
        Assert.Equal(5, stats.Symlinks);
        long expected = Directory.EnumerateFiles(src, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Where(f => Native.TryGetInfo(f, out var st) && st.Kind == EntryKind.Regular && !f.Contains("hard"))
            .Sum(f => new FileInfo(f).Length);
        Assert.Equal(expected, stats.UncompressedBytes);
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Unpack_MergesIntoExistingDestination_ReplacingFilesAndKeepingOthers(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        string src = t.Sub("src"), dst = t.Sub("dst");
        WriteFile(Path.Join(src, "a/new.txt"), "new");
        WriteFile(Path.Join(src, "a/replaced.txt"), "from archive");
        WriteFile(Path.Join(dst, "a/replaced.txt"), "old content");
        WriteFile(Path.Join(dst, "a/kept.txt"), "kept");
        WriteFile(Path.Join(dst, "other/kept2.txt"), "kept2");
        File.CreateSymbolicLink(Path.Join(dst, "a/was-link.txt"), "/etc/passwd");
        WriteFile(Path.Join(src, "a/was-link.txt"), "a file now");

        await TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(await PackToBytesAsync(src, fs: fs)), dst, CancellationToken.None);

        Assert.Equal("new", File.ReadAllText(Path.Join(dst, "a/new.txt")));
        Assert.Equal("from archive", File.ReadAllText(Path.Join(dst, "a/replaced.txt")));
        Assert.Equal("kept", File.ReadAllText(Path.Join(dst, "a/kept.txt")));
        Assert.Equal("kept2", File.ReadAllText(Path.Join(dst, "other/kept2.txt")));
        Assert.Null(new FileInfo(Path.Join(dst, "a/was-link.txt")).LinkTarget); // the symlink itself was replaced
        Assert.Equal("a file now", File.ReadAllText(Path.Join(dst, "a/was-link.txt")));
        Assert.Empty(Directory.GetDirectories(t.Path, ".s3pod-stage-*", SearchOption.AllDirectories));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task MultipleInputs_RestoreToTheirOwnBaseDirs_CreatingMissingParents(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        WriteFile(t.Sub("one/x.txt"), "x");
        WriteFile(t.Sub("two/file.bin"), "single file");
        WriteFile(t.Sub("one/skip/me.txt"), "excluded");
        var ms = new MemoryStream();
        var stats = await TarZstd.PackAsync(fs, 
            [new ArchiveInput(t.Sub("one"), "0"), new ArchiveInput(t.Sub("two/file.bin"), "1/file.bin")],
            ms, 3, name => name == "0/skip", CancellationToken.None);
        Assert.Equal(2, stats.Files);

        string a = t.Sub("restore/deep/one"), b = t.Sub("restore2");
        ms.Position = 0;
        await TarZstd.UnpackAsync(fs, ms, name =>
        {
            var (head, rest) = name.IndexOf('/') is var i && i < 0 ? (name, "") : (name[..i], name[(i + 1)..]);
            return head switch { "0" => (a, rest), "1" => (b, rest), _ => null };
        }, CancellationToken.None);
        Assert.Equal("x", File.ReadAllText(Path.Join(a, "x.txt")));
        Assert.Equal("single file", File.ReadAllText(Path.Join(b, "file.bin")));
        Assert.False(Directory.Exists(Path.Join(a, "skip")));
        Assert.Empty(Directory.GetDirectories(t.Path, ".s3pod-stage-*", SearchOption.AllDirectories));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Pack_MissingDirectory_IsExit2NamingIt(string fsName)
    {
        var fs = Fs(fsName);
        var e = await Assert.ThrowsAsync<S3PodException>(() => TarZstd.PackDirectoryAsync(fs, "/dev/shm/no-such-dir-s3pod", Stream.Null, 3, CancellationToken.None));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("/dev/shm/no-such-dir-s3pod", e.Message);
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Pack_UnreadableFile_IsExit2NamingIt(string fsName)
    {
        var fs = Fs(fsName);
        // Root reads anything; only a non-root run can see a permission error.
        if (Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root") return;
        using var t = new TempDir();
        WriteFile(t.Sub("src/locked.txt"), "x", mode: 0);
        var e = await Assert.ThrowsAsync<S3PodException>(() => TarZstd.PackDirectoryAsync(fs, t.Sub("src"), Stream.Null, 3, CancellationToken.None));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("locked.txt", e.Message);
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Pack_FailingOutput_NeverLeavesACompleteFrame(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        MakeRichTree(t.Sub("src"));
        var sink = new FailAfterStream(200_000);
        await Assert.ThrowsAsync<IOException>(() => TarZstd.PackDirectoryAsync(fs, t.Sub("src"), sink, 3, CancellationToken.None));
        var written = sink.Written.ToArray();
        var e = await Assert.ThrowsAsync<S3PodException>(() => TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(written), t.Sub("dst"), CancellationToken.None));
        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Pack_Cancelled_Throws(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        MakeRichTree(t.Sub("src"));
        using var cts = new CancellationTokenSource();
        var sink = new CancelAfterStream(1, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TarZstd.PackDirectoryAsync(fs, t.Sub("src"), sink, 3, cts.Token));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task Unpack_Cancelled_LeavesDestinationUnchangedAndNoStaging(string fsName)
    {
        var fs = Fs(fsName);
        using var t = new TempDir();
        MakeRichTree(t.Sub("src"));
        WriteFile(t.Sub("dst/existing.txt"), "before");
        var before = Snapshot(t.Sub("dst"), includeRoot: true);
        var bytes = await PackToBytesAsync(t.Sub("src"), 1, fs: fs);
        using var cts = new CancellationTokenSource();
        var input = new CancelOnReadStream(bytes, bytes.Length / 2, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TarZstd.UnpackDirectoryAsync(fs, input, t.Sub("dst"), cts.Token));
        AssertSameTree(before, Snapshot(t.Sub("dst"), includeRoot: true));
        Assert.Empty(Directory.GetDirectories(t.Path, ".s3pod-stage-*", SearchOption.AllDirectories));
    }

    private sealed class FailAfterStream(int limit) : Stream
    {
        public MemoryStream Written { get; } = new();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written.Length;
        public override long Position { get => Written.Length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Written.Length + count > limit) throw new IOException("disk full (simulated)");
            Written.Write(buffer, offset, count);
        }
    }

    private sealed class CancelAfterStream(int writes, CancellationTokenSource cts) : Stream
    {
        private int _n;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (++_n >= writes) cts.Cancel();
        }
    }

    /// <summary>Serves bytes slowly-ish and cancels once half has been read, like Ctrl-C mid-download.</summary>
    private sealed class CancelOnReadStream(byte[] data, int cancelAt, CancellationTokenSource cts) : Stream
    {
        private int _pos;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_pos >= cancelAt) cts.Cancel();
            cts.Token.ThrowIfCancellationRequested();
            int n = Math.Min(Math.Min(count, 4096), data.Length - _pos);
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
