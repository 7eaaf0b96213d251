using S3Pod.Local;

namespace S3Pod.UnitTests;

/// <summary>Issue 16, defect 6: temp files a killed run left beside a destination go on the next write there; a live writer's stays.</summary>
public sealed class TempFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-temps-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Old(string path, string text = "partial")
    {
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - TimeSpan.FromMinutes(5));
        return path;
    }

    [Fact]
    public void RemovesDeadTempsOfItsOwnNaming_KeepsLockedYoungAndForeignOnes()
    {
        var dest = Path.Combine(_dir, "model.bin");
        var dead = Old(TempFiles.NewPath(dest));
        var young = TempFiles.NewPath(dest);
        File.WriteAllText(young, "just closed, not yet renamed");
        var live = TempFiles.NewPath(dest);
        using (var writer = TempFiles.Create(live))
        {
            writer.Write("writing"u8);
            writer.Flush();
            File.SetLastWriteTimeUtc(live, DateTime.UtcNow - TimeSpan.FromMinutes(5)); // a stalled download
            var foreign = Old(Path.Combine(_dir, ".model.bin.s3pod-notours"));
            var other = Old(TempFiles.NewPath(Path.Combine(_dir, "other.bin")));

            Assert.Equal("partial".Length, TempFiles.RemoveStale(dest));
            Assert.False(File.Exists(dead));
            Assert.True(File.Exists(young));
            Assert.True(File.Exists(live));
            Assert.True(File.Exists(foreign));
            Assert.True(File.Exists(other));
        }
        // The writer is gone (closed without renaming: as if killed).
        TempFiles.RemoveStale(dest);
        Assert.False(File.Exists(live));
    }

    [Fact]
    public async Task TheNextVerifiedWriteToAPlace_RemovesWhatKilledRunsLeftThere()
    {
        var dest = Path.Combine(_dir, "data.bin");
        var leftovers = Enumerable.Range(0, 3).Select(_ => Old(TempFiles.NewPath(dest), new string('x', 1000))).ToList();
        await S3Pod.Files.LocalFiles.WriteVerifiedAsync(new MemoryStream("new"u8.ToArray()), dest, default, (_, _) => { });
        Assert.Equal("new", File.ReadAllText(dest));
        Assert.Equal(["data.bin"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
    }
}
