namespace S3Pod.Archive;

/// <summary>
/// Names an archive may hold but a file system may not: Windows' forbidden names, and names that
/// become one file on a case-insensitive file system (Windows, macOS APFS/HFS+ by default, a
/// case-folding mount on Linux). Archive names are '/'-separated and canonical when they get here.
/// </summary>
internal static class FileNameRules
{
    private static readonly HashSet<string> WindowsDeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
    };

    /// <summary>Why Windows cannot create <paramref name="name"/> as it is, or null when it can.</summary>
    public static string? RefuseOnWindows(string name)
    {
        foreach (var part in name.Split('/'))
        {
            foreach (char c in part)
            {
                if (c < 32) return "Windows does not allow control characters in names";
                // ':' would also write an alternate data stream ("a:b") or name a drive; '\' is a separator there.
                if (c is '<' or '>' or ':' or '"' or '|' or '?' or '*' or '\\')
                    return $"Windows does not allow '{c}' in names";
            }
            if (part.EndsWith('.') || part.EndsWith(' '))
                return "Windows drops a trailing dot or space from a name, so it would become another name";
            // CON, con.txt and "nul .tar.gz" all name the device: the part before the first dot, trailing spaces ignored.
            int dot = part.IndexOf('.');
            string stem = (dot < 0 ? part : part[..dot]).TrimEnd(' ');
            if (WindowsDeviceNames.Contains(stem)) return $"'{stem}' is a reserved device name on Windows";
        }
        return null;
    }

    /// <summary>
    /// The form under which two names are one file on a case-insensitive file system: Unicode simple
    /// upper-casing, as NTFS and APFS compare. APFS also ignores Unicode normalization (NFC "é" and NFD
    /// "e"+U+0301 are one name there); the binary runs with invariant globalization, which has no
    /// normalization tables, so that pair is not caught (documented in the README's "Platforms").
    /// </summary>
    public static string Fold(string name) => name.ToUpperInvariant();

    /// <summary>
    /// Creates a probe file in <paramref name="directory"/> (a fresh private staging directory) and
    /// looks it up in another case: the only reliable answer, since one OS can mount both kinds.
    /// </summary>
    public static bool ProbeCaseInsensitive(IFileSystem fs, string directory)
    {
        string lower = Path.Join(directory, "s3pod-case-probe");
        string upper = Path.Join(directory, "S3POD-CASE-PROBE");
        File.WriteAllBytes(lower, []);
        try
        {
            return fs.TryGetInfo(upper, out _);
        }
        finally
        {
            File.Delete(lower);
        }
    }
}
