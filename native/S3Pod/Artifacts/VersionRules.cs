using S3Pod.Archive;

namespace S3Pod.Artifacts;

/// <summary>Which part of a semver version <c>--bump</c> raises.</summary>
internal enum SemverBump { Patch, Minor, Major }

/// <summary>
/// How a push or publish asks for its version. Nothing set: the scheme's default (int: next number;
/// semver: patch bump; major-minor: minor bump of the latest; date: now).
/// </summary>
/// <param name="Explicit"><c>--version V</c>: exactly this version (any scheme).</param>
/// <param name="Bump"><c>--bump</c> (semver).</param>
/// <param name="MinVersion"><c>--min-version V</c> (semver): the result is at least V (padded: 4 means 4.0.0).</param>
/// <param name="BumpMajor"><c>--bump-major</c> (major-minor): (highest major + 1).0.</param>
/// <param name="Major"><c>--major X</c> (major-minor): the next minor within major X.</param>
internal sealed record VersionRequest(string? Explicit = null, SemverBump? Bump = null, string? MinVersion = null, bool BumpMajor = false, long? Major = null)
{
    public static readonly VersionRequest Default = new();

    /// <summary>Whether the version follows from what exists (so a lost race takes the next one) rather than being named.</summary>
    public bool IsRelative => Explicit is null;
}

/// <summary>
/// The scheme rules for the next version, as a pure function of what exists: <paramref name="taken"/>
/// holds every version that has a record, tombstoned ones included, so a number is never handed out
/// twice. The ledger calls this again after every lost create-only write, with the fresh listing.
/// </summary>
internal static class VersionRules
{
    /// <summary>Checks that the flags of <paramref name="request"/> make sense for <paramref name="scheme"/> (usage errors).</summary>
    public static void Validate(VersionScheme scheme, VersionRequest request)
    {
        var flags = new List<string>();
        if (request.Bump is not null) flags.Add("--bump");
        if (request.MinVersion is not null) flags.Add("--min-version");
        if (request.BumpMajor) flags.Add("--bump-major");
        if (request.Major is not null) flags.Add("--major");
        var allowed = scheme == VersionScheme.Semver ? new[] { "--bump", "--min-version" }
            : scheme == VersionScheme.MajorMinor ? new[] { "--bump-major", "--major" }
            : [];
        if (flags.FirstOrDefault(f => !allowed.Contains(f)) is { } wrong)
            throw S3PodException.Usage($"{wrong} does not apply to the {scheme.Name} scheme{(allowed.Length > 0 ? $" (it takes {string.Join(", ", allowed)} or --version)" : " (it takes only --version)")}");
        if (request.Explicit is not null && flags.Count > 0)
            throw S3PodException.Usage($"--version names the version; it cannot be combined with {flags[0]}");
        if (request.BumpMajor && request.Major is not null)
            throw S3PodException.Usage("--bump-major and --major exclude each other");
        if (request.Explicit is not null) scheme.Parse(request.Explicit, "--version");
        if (request.MinVersion is not null) MinimumOf(request.MinVersion);
        if (request.Major is < 0) throw S3PodException.Usage($"--major must be 0 or more, not {request.Major}");
    }

    /// <summary>
    /// The version to try next. Throws a conflict (exit 4) for an explicit version that exists or
    /// breaks the scheme's ordering rule.
    /// </summary>
    public static ArtifactVersion Next(VersionScheme scheme, VersionRequest request, IReadOnlyCollection<ArtifactVersion> taken, DateTimeOffset now, string name)
    {
        if (request.Explicit is { } text)
        {
            var wanted = scheme.Parse(text, "--version");
            if (taken.Contains(wanted))
                throw S3PodException.Conflict($"version {wanted} of {name} exists or was deleted (a version is never reused)");
            if (scheme == VersionScheme.Semver && Max(taken) is { } latest && wanted <= latest)
                throw S3PodException.Conflict($"version {wanted} of {name} is not above the latest {latest}: semver versions only increase");
            if (scheme == VersionScheme.MajorMinor && Max(taken.Where(v => v.Numbers[0] == wanted.Numbers[0])) is { } inMajor && wanted <= inMajor)
                throw S3PodException.Conflict($"version {wanted} of {name} is not above {inMajor}, the latest of major {wanted.Numbers[0]}");
            return wanted;
        }

        if (scheme == VersionScheme.Int)
            return Int((Max(taken)?.Numbers[0] ?? 0) + 1);

        if (scheme == VersionScheme.Semver)
        {
            var bumped = Max(taken) is { } latest ? Bump(latest, request.Bump ?? SemverBump.Patch) : Semver(1, 0, 0);
            if (request.MinVersion is { } min && MinimumOf(min) is var floor && floor > bumped) bumped = floor;
            return bumped;
        }

        if (scheme == VersionScheme.MajorMinor)
        {
            if (request.BumpMajor) return MajorMinor((Max(taken)?.Numbers[0] ?? -1) + 1, 0);
            if (request.Major is { } major)
                return Max(taken.Where(v => v.Numbers[0] == major)) is { } inMajor ? MajorMinor(major, inMajor.Numbers[1] + 1) : MajorMinor(major, 0);
            return Max(taken) is { } latest ? MajorMinor(latest.Numbers[0], latest.Numbers[1] + 1) : MajorMinor(0, 0);
        }

        // date: now, or the first free second after it.
        var candidate = VersionScheme.DateVersion(now);
        while (taken.Contains(candidate)) candidate = VersionScheme.DateVersion(now = now.AddSeconds(1));
        return candidate;
    }

    public static ArtifactVersion? Max(IEnumerable<ArtifactVersion> versions)
    {
        ArtifactVersion? max = null;
        foreach (var v in versions)
            if (max is null || v > max) max = v;
        return max;
    }

    /// <summary>npm's increment: a pre-release is first released (1.3.0-rc.1 --bump minor → 1.3.0),
    /// otherwise the part is raised and the parts after it reset.</summary>
    public static ArtifactVersion Bump(ArtifactVersion v, SemverBump bump)
    {
        long major = v.Numbers[0], minor = v.Numbers[1], patch = v.Numbers[2];
        return bump switch
        {
            SemverBump.Major when v.IsPrerelease && minor == 0 && patch == 0 => Semver(major, 0, 0),
            SemverBump.Major => Semver(major + 1, 0, 0),
            SemverBump.Minor when v.IsPrerelease && patch == 0 => Semver(major, minor, 0),
            SemverBump.Minor => Semver(major, minor + 1, 0),
            _ when v.IsPrerelease => Semver(major, minor, patch),
            _ => Semver(major, minor, patch + 1),
        };
    }

    /// <summary>A short minimum is padded: <c>4</c> → 4.0.0, <c>3.7</c> → 3.7.0; a full version stays as it is.</summary>
    public static ArtifactVersion MinimumOf(string text)
    {
        if (VersionScheme.Semver.TryParse(text) is { } full) return full;
        if (VersionScheme.Semver.TryParsePrefix(text) is { } prefix)
            return Semver(prefix.Numbers[0], prefix.Numbers.Length > 1 ? prefix.Numbers[1] : 0, 0);
        throw S3PodException.Usage($"--min-version {EntryNames.Quote(text)} is not a version (e.g. 4, 3.7 or 3.7.1)");
    }

    private static ArtifactVersion Int(long n) => new(n.ToString(System.Globalization.CultureInfo.InvariantCulture), [n]);
    private static ArtifactVersion Semver(long a, long b, long c) => new(FormattableString.Invariant($"{a}.{b}.{c}"), [a, b, c]);
    private static ArtifactVersion MajorMinor(long a, long b) => new(FormattableString.Invariant($"{a}.{b}"), [a, b]);
}
