using System.Runtime.InteropServices;

namespace S3Pod.Keys;

/// <summary>
/// Turns a key template into a key: <c>{hash}</c> becomes the content digest truncated to N hex
/// characters; a template without <c>{hash}</c> gets <c>-HASH</c> before its extension; the arch
/// suffix (Go's GOOS-GOARCH names) goes before the extension too, after the hash.
/// </summary>
internal static class KeyTemplate
{
    public const string HashPlaceholder = "{hash}";
    public const int DefaultHashLength = 16;

    public static string Apply(string template, string? digest, int hashLength, bool archSuffix)
    {
        if (string.IsNullOrWhiteSpace(template)) throw S3PodException.Usage("the key template is empty");
        if (hashLength is < 1 or > 64) throw S3PodException.Usage($"--hash-length must be between 1 and 64, not {hashLength}");
        var key = template;
        if (digest is not null)
        {
            var hash = digest[..Math.Min(hashLength, digest.Length)];
            key = key.Contains(HashPlaceholder, StringComparison.Ordinal)
                ? key.Replace(HashPlaceholder, hash, StringComparison.Ordinal)
                : InsertBeforeExtension(key, "-" + hash);
        }
        else if (key.Contains(HashPlaceholder, StringComparison.Ordinal))
        {
            throw S3PodException.Usage($"the key template contains {HashPlaceholder} but no --hash-from input was given");
        }
        if (archSuffix) key = InsertBeforeExtension(key, "-" + HostPlatform());
        return key;
    }

    /// <summary><c>img/build.tar.zst</c> + <c>-x</c> = <c>img/build-x.tar.zst</c>; <c>bin/tool</c> + <c>-x</c> = <c>bin/tool-x</c>.</summary>
    internal static string InsertBeforeExtension(string key, string insert)
    {
        int slash = key.LastIndexOf('/');
        var name = key[(slash + 1)..];
        // A leading dot is part of the name (".bashrc"), not an extension.
        int dot = name.IndexOf('.', 1 < name.Length ? 1 : name.Length);
        if (dot <= 0) return key + insert;
        return key[..(slash + 1)] + name[..dot] + insert + name[dot..];
    }

    /// <summary>The host in Go's GOOS-GOARCH names (linux-amd64), so keys written by Go tools match.</summary>
    public static string HostPlatform()
    {
        var os = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsFreeBSD() ? "freebsd" : "unknown";
        var arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "386",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        return $"{os}-{arch}";
    }
}
