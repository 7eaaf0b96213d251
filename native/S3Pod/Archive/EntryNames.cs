using System.Text;

namespace S3Pod.Archive;

/// <summary>Entry-name rules shared by packing and unpacking, and the quoting used in messages.</summary>
internal static class EntryNames
{
    /// <summary>
    /// Canonical form of a name read from an archive: '/'-separated, no leading "./", no "." or empty
    /// components, no trailing '/'. "" is the archive root ("./" in `tar -c .` archives). Returns null
    /// for names that must be refused: absolute, containing "..", or containing NUL.
    /// </summary>
    public static string? Normalize(string name)
    {
        if (name.Length == 0 || name[0] == '/' || name.Contains('\0')) return null;
        // Fast path: most names are already canonical.
        if (!name.StartsWith("./", StringComparison.Ordinal) && name != "." && !name.Contains("//", StringComparison.Ordinal)
            && !name.Contains("/./", StringComparison.Ordinal) && !name.EndsWith("/.", StringComparison.Ordinal)
            && !HasDotDot(name))
        {
            return name.EndsWith('/') ? name.TrimEnd('/') : name;
        }
        var sb = new StringBuilder(name.Length);
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".") continue;
            if (part == "..") return null;
            if (sb.Length > 0) sb.Append('/');
            sb.Append(part);
        }
        return sb.ToString();
    }

    private static bool HasDotDot(string name)
    {
        int i = 0;
        while ((i = name.IndexOf("..", i, StringComparison.Ordinal)) >= 0)
        {
            bool startOk = i == 0 || name[i - 1] == '/';
            bool endOk = i + 2 == name.Length || name[i + 2] == '/';
            if (startOk && endOk) return true;
            i += 2;
        }
        return false;
    }

    /// <summary>True for a relative, canonical name as <see cref="Normalize"/> produces (or "").</summary>
    public static bool IsCanonicalRelative(string name) => Normalize(name) is { } n && n == name || name.Length == 0;

    /// <summary>Parent of a canonical name ("" for a top-level name).</summary>
    public static string Parent(string name)
    {
        int i = name.LastIndexOf('/');
        return i < 0 ? "" : name[..i];
    }

    public static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "/" + name;

    /// <summary>
    /// Quotes a name for a one-line message: control characters (a newline in a hostile entry name)
    /// become \xNN so an error is always one line and cannot forge output.
    /// </summary>
    public static string Quote(string name)
    {
        var sb = new StringBuilder(name.Length + 2).Append('\'');
        foreach (char c in name.Length > 300 ? name[..300] + "..." : name)
        {
            if (char.IsControl(c)) sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }
}
