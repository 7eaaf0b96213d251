using S3Pod.Artifacts;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>Version parsing, ordering and bumping: pure logic, including the anchors' bugs as regressions.</summary>
public class VersionSchemeTests
{
    private static readonly DateTimeOffset Now = new(2025, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private static ArtifactVersion V(VersionScheme scheme, string text) => scheme.TryParse(text) ?? throw new ArgumentException(text);

    private static List<ArtifactVersion> Vs(VersionScheme scheme, params string[] texts) => texts.Select(t => V(scheme, t)).ToList();

    private static string Next(VersionScheme scheme, VersionRequest request, params string[] taken) =>
        VersionRules.Next(scheme, request, Vs(scheme, taken), Now, "app").Text;

    [Theory]
    [InlineData("int", "1", true)]
    [InlineData("int", "42", true)]
    [InlineData("int", "0", false)]
    [InlineData("int", "007", false)]
    [InlineData("int", "-1", false)]
    [InlineData("int", "1.0", false)]
    [InlineData("int", "1234567890123456789", false)]
    [InlineData("semver", "1.2.3", true)]
    [InlineData("semver", "0.0.0", true)]
    [InlineData("semver", "1.2.3-rc.1", true)]
    [InlineData("semver", "1.2.3-0a.x-y", true)]
    [InlineData("semver", "1.2", false)]
    [InlineData("semver", "01.2.3", false)]
    [InlineData("semver", "1.2.3-01", false)]
    [InlineData("semver", "1.2.3+build", false)]
    [InlineData("semver", "1.2.3-", false)]
    [InlineData("semver", "1.2.3-a..b", false)]
    [InlineData("semver", "1.2.3-x.tomb", false)]
    [InlineData("major-minor", "0.0", true)]
    [InlineData("major-minor", "10.3", true)]
    [InlineData("major-minor", "1", false)]
    [InlineData("major-minor", "1.02", false)]
    [InlineData("major-minor", "1.2.3", false)]
    [InlineData("date", "2025-07-01T12-00-00Z", true)]
    [InlineData("date", "2025-02-30T12-00-00Z", false)]
    [InlineData("date", "2025-07-01T12:00:00Z", false)]
    [InlineData("date", "2025-07-01T12-00-00", false)]
    public void OnlyCanonicalVersionsParse(string scheme, string text, bool valid)
    {
        Assert.Equal(valid, VersionScheme.Parse(scheme).TryParse(text) is not null);
    }

    [Fact]
    public void Ordering_ComparesNumbersAsNumbers()
    {
        Assert.True(V(VersionScheme.MajorMinor, "10.0") > V(VersionScheme.MajorMinor, "9.9"));
        Assert.True(V(VersionScheme.MajorMinor, "1.10") > V(VersionScheme.MajorMinor, "1.9"));
        Assert.True(V(VersionScheme.Int, "10") > V(VersionScheme.Int, "9"));
        Assert.True(V(VersionScheme.Semver, "1.10.0") > V(VersionScheme.Semver, "1.9.9"));
        Assert.True(V(VersionScheme.Date, "2025-10-01T00-00-00Z") > V(VersionScheme.Date, "2025-09-30T23-59-59Z"));
    }

    [Fact]
    public void Semver_PrereleasePrecedence_FollowsTheSpec()
    {
        // SemVer 2.0 §11's example chain, in order.
        var chain = Vs(VersionScheme.Semver, "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0");
        for (int i = 1; i < chain.Count; i++) Assert.True(chain[i - 1] < chain[i], $"{chain[i - 1]} < {chain[i]}");
        var shuffled = chain.OrderBy(v => v.Text.GetHashCode()).ToList();
        shuffled.Sort();
        Assert.Equal(chain.Select(v => v.Text), shuffled.Select(v => v.Text));
    }

    [Fact]
    public void PartialMajor_NeverMatchesALongerNumber_ModelkitRegression()
    {
        // modelkit's filter_versions matched "1" against 10.x and 123.x.
        var prefix = VersionScheme.MajorMinor.TryParsePrefix("1")!;
        var versions = Vs(VersionScheme.MajorMinor, "123.0", "1.2", "10.0", "1.0");
        Assert.Equal(["1.2", "1.0"], versions.Where(prefix.Matches).Select(v => v.Text));
        var semverPrefix = VersionScheme.Semver.TryParsePrefix("1.2")!;
        Assert.Equal(["1.2.0", "1.2.9"], Vs(VersionScheme.Semver, "1.2.0", "1.20.0", "11.2.0", "1.2.9", "1.2.10-rc.1").Where(semverPrefix.Matches).Select(v => v.Text));
    }

    [Fact]
    public void Int_NextIsAboveEveryRecord_TombstonesIncluded_VersionedRegression()
    {
        Assert.Equal("1", Next(VersionScheme.Int, VersionRequest.Default));
        // "taken" includes tombstoned versions: deleting the highest (5) must not hand 5 out again.
        Assert.Equal("6", Next(VersionScheme.Int, VersionRequest.Default, "1", "2", "5"));
    }

    [Theory]
    [InlineData("3.4.5", null, null, "3.4.6")]
    [InlineData("3.4.5", "minor", null, "3.5.0")]
    [InlineData("3.4.5", "major", null, "4.0.0")]
    [InlineData("3.4.5", null, "4", "4.0.0")]      // baiji: latest 3.4.5, min 4 -> 4.0.0
    [InlineData("3.4.5", null, "3.7", "3.7.0")]    // baiji: min 3.7 -> 3.7.0
    [InlineData("3.4.5", "major", "3.7", "4.0.0")]
    [InlineData("3.4.5", null, "3.1", "3.4.6")]    // a minimum below the bump changes nothing
    [InlineData("1.3.0-rc.1", "minor", null, "1.3.0")]
    [InlineData("1.3.1-rc.1", "minor", null, "1.4.0")]
    [InlineData("2.0.0-rc.1", "major", null, "2.0.0")]
    [InlineData("1.2.3-rc.1", null, null, "1.2.3")]
    public void Semver_Bumps(string latest, string? bump, string? min, string expected)
    {
        SemverBump? part = bump is null ? null : Enum.Parse<SemverBump>(bump, ignoreCase: true);
        Assert.Equal(expected, Next(VersionScheme.Semver, new VersionRequest(Bump: part, MinVersion: min), "1.0.0", latest));
    }

    [Fact]
    public void Semver_FirstVersion_AndStrictlyIncreasingExplicit()
    {
        Assert.Equal("1.0.0", Next(VersionScheme.Semver, VersionRequest.Default));
        Assert.Equal("2.0.0", Next(VersionScheme.Semver, new VersionRequest(MinVersion: "2")));
        Assert.Equal("3.5.0", Next(VersionScheme.Semver, new VersionRequest("3.5.0"), "3.4.5"));
        var below = Assert.Throws<S3PodException>(() => Next(VersionScheme.Semver, new VersionRequest("3.4.4"), "3.4.5"));
        Assert.Equal(FailureKind.Conflict, below.Kind);
        Assert.Contains("only increase", below.Message);
        var exists = Assert.Throws<S3PodException>(() => Next(VersionScheme.Semver, new VersionRequest("3.4.5"), "3.4.5"));
        Assert.Equal(FailureKind.Conflict, exists.Kind);
    }

    [Fact]
    public void MajorMinor_Bumps()
    {
        Assert.Equal("0.0", Next(VersionScheme.MajorMinor, VersionRequest.Default));
        Assert.Equal("10.1", Next(VersionScheme.MajorMinor, VersionRequest.Default, "1.5", "9.9", "10.0"));
        Assert.Equal("11.0", Next(VersionScheme.MajorMinor, new VersionRequest(BumpMajor: true), "1.5", "9.9", "10.0"));
        // An old major gets a minor update (modelkit's name:X), without looking at 10.x.
        Assert.Equal("1.6", Next(VersionScheme.MajorMinor, new VersionRequest(Major: 1), "1.5", "10.0"));
        Assert.Equal("4.0", Next(VersionScheme.MajorMinor, new VersionRequest(Major: 4), "1.5", "10.0"));
        Assert.Equal("1.9", Next(VersionScheme.MajorMinor, new VersionRequest("1.9"), "1.5", "10.0"));
        Assert.Equal(FailureKind.Conflict, Assert.Throws<S3PodException>(() => Next(VersionScheme.MajorMinor, new VersionRequest("1.4"), "1.5", "10.0")).Kind);
    }

    [Fact]
    public void Date_IsNow_AndAdvancesPastTakenSeconds()
    {
        Assert.Equal("2025-07-01T12-00-00Z", Next(VersionScheme.Date, VersionRequest.Default));
        Assert.Equal("2025-07-01T12-00-02Z", Next(VersionScheme.Date, VersionRequest.Default, "2025-07-01T12-00-00Z", "2025-07-01T12-00-01Z"));
    }

    [Fact]
    public void ExplicitVersion_ThatExistsOrWasDeleted_IsConflict()
    {
        var e = Assert.Throws<S3PodException>(() => Next(VersionScheme.Int, new VersionRequest("3"), "1", "3"));
        Assert.Equal(FailureKind.Conflict, e.Kind);
        Assert.Equal("2", Next(VersionScheme.Int, new VersionRequest("2"), "1", "3"));
    }

    [Theory]
    [InlineData("int", "--bump")]
    [InlineData("int", "--major")]
    [InlineData("date", "--min-version")]
    [InlineData("semver", "--bump-major")]
    [InlineData("major-minor", "--bump")]
    public void FlagsOfAnotherScheme_AreUsageErrors(string scheme, string flag)
    {
        var request = flag switch
        {
            "--bump" => new VersionRequest(Bump: SemverBump.Minor),
            "--major" => new VersionRequest(Major: 1),
            "--min-version" => new VersionRequest(MinVersion: "1"),
            _ => new VersionRequest(BumpMajor: true),
        };
        var e = Assert.Throws<S3PodException>(() => VersionRules.Validate(VersionScheme.Parse(scheme), request));
        Assert.Equal(FailureKind.Usage, e.Kind);
        Assert.Contains(flag, e.Message);
    }

    [Fact]
    public void VersionWithBumpFlags_IsUsageError()
    {
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => VersionRules.Validate(VersionScheme.Semver, new VersionRequest("1.0.0", SemverBump.Major))).Kind);
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => VersionRules.Validate(VersionScheme.Int, new VersionRequest("x"))).Kind);
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => VersionRules.Validate(VersionScheme.Semver, new VersionRequest(MinVersion: "four"))).Kind);
    }

    public static TheoryData<string, string[]> EveryScheme() => new()
    {
        { "int", ["1", "2", "9", "10", "11", "99", "100", "1000000000000"] },
        { "semver", ["0.0.1", "0.1.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.9", "1.2.10", "1.10.0", "2.0.0", "10.0.0"] },
        { "major-minor", ["0.1", "0.9", "0.10", "1.0", "1.2", "1.10", "9.9", "10.0", "123.4"] },
        { "date", ["2024-12-31T23-59-59Z", "2025-01-02T03-04-05Z", "2025-01-02T03-04-06Z", "2025-10-01T00-00-00Z"] },
    };

    /// <summary>Assets order versions without knowing the scheme; artifacts order them by it. The
    /// two orderings must agree on every scheme, or latest and "newest 1.x" differ by who asks.</summary>
    [Theory]
    [MemberData(nameof(EveryScheme))]
    public void SchemelessOrder_AgreesWithEveryScheme(string scheme, string[] ascending)
    {
        var shuffled = ascending.Reverse().Concat(ascending.Where((_, i) => i % 2 == 0)).Distinct().ToList();
        var byScheme = shuffled.Select(t => V(VersionScheme.Parse(scheme), t)).Order().Select(v => v.Text).ToList();
        var schemeless = shuffled.Select(SchemelessVersion.Parse).Order().Select(v => v.Text).ToList();
        Assert.Equal(ascending, byScheme);
        Assert.Equal(ascending, schemeless);
        for (int i = 0; i < ascending.Length; i++)
            for (int j = 0; j < ascending.Length; j++)
                Assert.Equal(Math.Sign(V(VersionScheme.Parse(scheme), ascending[i]).CompareTo(V(VersionScheme.Parse(scheme), ascending[j]))),
                    Math.Sign(SchemelessVersion.Parse(ascending[i]).CompareTo(SchemelessVersion.Parse(ascending[j]))));
    }
}
