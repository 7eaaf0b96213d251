using System.Security.Cryptography;

namespace S3Pod.FaultTests.Harness;

/// <summary>Directory trees of test data, and exact snapshots to compare before/after.</summary>
internal static class Tree
{
    /// <summary>Random (incompressible) bytes: archives are as large as their input, so "large" really is multipart.</summary>
    public static byte[] RandomBytes(long size)
    {
        var data = GC.AllocateUninitializedArray<byte>(checked((int)size));
        RandomNumberGenerator.Fill(data);
        return data;
    }

    /// <summary>A tree of about <paramref name="totalBytes"/> of random data in a few files and a subdirectory.</summary>
    public static void WriteRandom(string dir, long totalBytes)
    {
        Directory.CreateDirectory(Path.Combine(dir, "sub/empty"));
        File.WriteAllText(Path.Combine(dir, "small.txt"), $"small file {Guid.NewGuid()}\n");
        long first = totalBytes / 2;
        File.WriteAllBytes(Path.Combine(dir, "a.bin"), RandomBytes(first));
        File.WriteAllBytes(Path.Combine(dir, "sub/b.bin"), RandomBytes(totalBytes - first));
    }

    /// <summary>
    /// Every entry below <paramref name="dir"/>: relative path, type, size and sha256 of files,
    /// link targets. "(absent)" when the directory does not exist.
    /// </summary>
    public static string Snapshot(string dir)
    {
        if (!Directory.Exists(dir)) return "(absent)";
        var lines = new List<string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var rel = Path.GetRelativePath(dir, path);
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target) lines.Add($"{rel} -> {target}");
            else if (Directory.Exists(path)) lines.Add($"{rel}/");
            else lines.Add($"{rel} {info.Length} {Sha256(File.ReadAllBytes(path))}");
        }
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    /// <summary>A snapshot of a directory with some entries left out (the pre-existing file a restore must keep).</summary>
    public static string SnapshotWithout(string dir, params string[] excluded) =>
        string.Join('\n', Snapshot(dir).Split('\n').Where(l => !excluded.Any(e => l == e || l.StartsWith(e + " ", StringComparison.Ordinal))));

    /// <summary>Names directly inside a directory (temp files appear there).</summary>
    public static SortedSet<string> Names(string dir) =>
        Directory.Exists(dir) ? new(Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName)!, StringComparer.Ordinal) : [];

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
