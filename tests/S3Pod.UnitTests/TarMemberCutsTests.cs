using System.Formats.Tar;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Chunks;
using S3Pod.Storage;

namespace S3Pod.UnitTests;

/// <summary>Image exports are chunked with a cut at each edge of a large member, so a layer two
/// images share is the same chunks in both, whatever surrounds it.</summary>
public class TarMemberCutsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("s3pod-tarcuts-").FullName;
    private readonly LocalObjectStore _store;

    public TarMemberCutsTests() =>
        _store = new LocalObjectStore(Path.Combine(_root, "store"), "ci", new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));

    public void Dispose() => Directory.Delete(_root, true);

    private static readonly byte[] Layer = Random(3 << 20, 1);

    private static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>An export-like tar: a config whose size differs per image, the shared layer, a manifest.</summary>
    private static (byte[] Tar, long LayerStart, long LayerEnd) Export(int configBytes)
    {
        var ms = new MemoryStream();
        using (var tar = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
        {
            void Add(string name, byte[] data)
            {
                var e = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
                tar.WriteEntry(e);
            }
            Add("config.json", Random(configBytes, configBytes));
            Add("0123abcd/layer.tar", Layer);
            Add("manifest.json", Random(700, 2));
        }
        long start = 512 + (configBytes + 511) / 512 * 512 + 512;
        return (ms.ToArray(), start, start + Layer.Length);
    }

    private async Task<ChunkUploadStats> ChunkAsync(byte[] data, IReadOnlyDictionary<string, long> known, bool cuts)
    {
        using var writer = new ChunkWriter(_store, FastCdc.Default, 3, known, 4, null, default);
        Stream into = cuts ? new TarMemberCuts(writer) : writer;
        for (int i = 0; i < data.Length; i += 100_000) into.Write(data, i, Math.Min(100_000, data.Length - i)); // odd-sized writes, as a pipe gives
        return await writer.CompleteAsync();
    }

    private static HashSet<long> Boundaries(ChunkUploadStats s)
    {
        var set = new HashSet<long>();
        long at = 0;
        foreach (var c in s.Chunks) set.Add(at += c.Size);
        return set;
    }

    [Fact]
    public async Task ALargeMember_StartsAndEndsAChunk_SoASecondImageReusesAllOfIt()
    {
        var (first, start, end) = Export(5_000);
        var a = await ChunkAsync(first, new Dictionary<string, long>(), cuts: true);
        Assert.Equal(first.Length, a.LogicalBytes);
        Assert.Contains(start, Boundaries(a));
        Assert.Contains(end, Boundaries(a));

        var (second, _, _) = Export(9_000);
        var known = a.Chunks.ToDictionary(c => c.Sha256, c => c.Stored);
        var b = await ChunkAsync(second, known, cuts: true);
        Assert.True(b.ReusedBytes >= Layer.Length, $"the second image reused {b.ReusedBytes} bytes; its layer is {Layer.Length}");

        // The bytes pass unchanged: the chunks read back are the tar.
        await using var reader = new ChunkReader(_store, b.Chunks, null, 4, null, default);
        var back = new MemoryStream();
        await reader.CopyToAsync(back);
        Assert.Equal(second, back.ToArray());
    }

    [Fact]
    public async Task AStreamThatIsNotTar_PassesUnchanged_WithNoCuts()
    {
        var data = Random(1 << 20, 5);
        var cut = await ChunkAsync(data, new Dictionary<string, long>(), cuts: true);
        var plain = await ChunkAsync(data, new Dictionary<string, long>(), cuts: false);
        Assert.Equal(plain.Chunks.Select(c => c.Sha256), cut.Chunks.Select(c => c.Sha256));
    }
}
