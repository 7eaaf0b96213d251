using S3Pod.Assets;
using S3Pod.Artifacts;

namespace S3Pod.UnitTests.Assets;

/// <summary>The spec grammar, names, version order and partial matching: pure logic.</summary>
public class AssetSpecTests
{
    [Theory]
    [InlineData("some/asset", "some/asset", null, null, false)]
    [InlineData("some/asset:1.2", "some/asset", "1.2", null, false)]
    [InlineData("some/dir/asset:0.1[content0]", "some/dir/asset", "0.1", "content0", false)]
    [InlineData("some/dir/asset[a/b.json]", "some/dir/asset", null, "a/b.json", false)]
    [InlineData("some/dir/asset:2[/a/b.json]", "some/dir/asset", "2", "a/b.json", false)]
    [InlineData("/foo/bar.csv", "foo/bar.csv", null, null, true)]
    [InlineData("/foo/bar.csv:1.2.5", "foo/bar.csv", "1.2.5", null, true)]
    [InlineData("models/clf:prod", "models/clf", "prod", null, false)]
    [InlineData("models/clf:1.2.3-rc.1+build.5", "models/clf", "1.2.3-rc.1+build.5", null, false)]
    public void Parse_ReadsModelkitGrammar(string text, string name, string? selector, string? sub, bool manifestPath)
    {
        var spec = AssetSpec.Parse(text);
        Assert.Equal(name, spec.Name);
        Assert.Equal(selector, spec.Selector);
        Assert.Equal(sub, spec.SubPath);
        Assert.Equal(manifestPath, spec.ManifestPath);
        Assert.Null(spec.Digest);
    }

    [Fact]
    public void Parse_ReadsTheDigestPin()
    {
        var hex = new string('a', 64);
        var spec = AssetSpec.Parse($"m/x:3@sha256:{hex.ToUpperInvariant()}[sub]");
        Assert.Equal("m/x", spec.Name);
        Assert.Equal("3", spec.Selector);
        Assert.Equal("sha256:" + hex, spec.Digest);
        Assert.Equal("sub", spec.SubPath);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("a//b", "empty segment")]
    [InlineData("a/../b", "'..' segment")]
    [InlineData("a/_versions/b", "may not start with '_'")]
    [InlineData("a b", "characters other than")]
    [InlineData("a:", "is not a version")]
    [InlineData("a:1[x", "must close")]
    [InlineData("a:1[../x]", "relative")]
    [InlineData("a:1[]", "empty")]
    [InlineData("a@md5:00", "sha256")]
    public void Parse_RefusesBadSpecs_NamingTheProblem(string text, string why)
    {
        var e = Assert.Throws<S3PodException>(() => AssetSpec.Parse(text));
        Assert.Equal(FailureKind.Usage, e.Kind);
        Assert.Contains(why, e.Message);
    }

    [Theory]
    [InlineData("/foo/bar.csv", "FOO_BAR_CSV")]
    [InlineData("models/my-clf.v2", "MODELS_MY_CLF_V2")]
    [InlineData("a", "A")]
    public void EnvName_IsModelkits(string name, string expected) => Assert.Equal(expected, AssetSpec.EnvName(name));

    [Fact]
    public void Versions_OrderNumerically_AndBySemverPrecedence()
    {
        string[] shuffled = ["10.0", "9.3", "1.10", "1.2", "1.2.3", "1.2.3-rc.1", "1.2.3-rc.10", "1.2.3-rc.2", "1.2.3-alpha", "1.2.3-rc", "2", "0.1"];
        var sorted = shuffled.Select(SchemelessVersion.Parse).Order().Select(v => v.Text).ToList();
        Assert.Equal(["0.1", "1.2", "1.2.3-alpha", "1.2.3-rc", "1.2.3-rc.1", "1.2.3-rc.2", "1.2.3-rc.10", "1.2.3", "1.10", "2", "9.3", "10.0"], sorted);
    }

    [Fact]
    public void DateVersions_OrderAsText()
    {
        var sorted = new[] { "2025-01-02T03-04-05Z", "2024-12-31T23-59-59Z", "2025-01-02T03-04-06Z" }.Select(SchemelessVersion.Parse).Order().Select(v => v.Text).ToList();
        Assert.Equal(["2024-12-31T23-59-59Z", "2025-01-02T03-04-05Z", "2025-01-02T03-04-06Z"], sorted);
        Assert.Null(SchemelessVersion.Parse("2025-01-02T03-04-05Z").Release);
    }

    [Fact]
    public void PartialVersion_MatchesWholeComponents_NeverTenOrOneTwentyThree()
    {
        // modelkit's regex `^1.` matches all four; only whole numbers count here.
        string[] versions = ["123.0", "1.2", "10.0", "1.0", "1", "1.2.5"];
        Assert.Equal(["1.2", "1.0", "1", "1.2.5"], versions.Where(v => SchemelessVersion.Parse(v).IsUnder("1")));
        Assert.Equal(["1.2", "1.2.5"], versions.Where(v => SchemelessVersion.Parse(v).IsUnder("1.2")));
        Assert.DoesNotContain(versions, v => SchemelessVersion.Parse(v).IsUnder("12"));
        Assert.True(SchemelessVersion.IsPartial("1.2"));
        Assert.False(SchemelessVersion.IsPartial("1.2.3-rc1"));
        Assert.False(SchemelessVersion.IsPartial("prod"));
    }

    [Theory]
    [InlineData("s3://bucket/a/b.csv", "bucket", "a/b.csv")]
    [InlineData("s3://my.bucket-1/k", "my.bucket-1", "k")]
    [InlineData("s3://bucket/a//b/", "bucket", "a//b/")]
    public void S3Uri_KeepsTheKeyVerbatim(string text, string bucket, string key)
    {
        var uri = S3Uri.Parse(text);
        Assert.Equal(bucket, uri.Bucket);
        Assert.Equal(key, uri.Key);
        Assert.Equal(text, uri.ToString());
    }

    [Theory]
    [InlineData("http://bucket/k", "not an s3://")]
    [InlineData("s3://bucket", "names a bucket")]
    [InlineData("s3://Bucket/k", "not a valid bucket")]
    [InlineData("s3://b/k", "not a valid bucket")]
    public void S3Uri_RefusesWhatIsNotAnObject(string text, string why) =>
        Assert.Contains(why, Assert.Throws<S3PodException>(() => S3Uri.Parse(text)).Message);

    [Fact]
    public void ImmutablePrefixes_CoverWholeSegments()
    {
        var prefix = S3Uri.ParsePrefix("s3://bucket/models/", "x");
        Assert.True(prefix.Covers(S3Uri.Parse("s3://bucket/models/a.bin")));
        Assert.True(prefix.Covers(S3Uri.Parse("s3://bucket/models")));
        Assert.False(prefix.Covers(S3Uri.Parse("s3://bucket/models-old/a.bin")));
        Assert.False(prefix.Covers(S3Uri.Parse("s3://other/models/a.bin")));
        Assert.True(S3Uri.ParsePrefix("s3://bucket", "x").Covers(S3Uri.Parse("s3://bucket/anything")));
    }

    [Theory]
    [InlineData("a/b.csv", "a/b.csv")]
    [InlineData("a//b", "a/%/b")]
    [InlineData("a/./../b", "a/%2E/%2E%2E/b")]
    [InlineData("dir/", "dir/%")]
    [InlineData("100%/x:y?", "100%25/x%3Ay%3F")]
    [InlineData("%2E", "%252E")]
    public void ObjectKeys_MapToPathsInjectively(string key, string path) =>
        Assert.Equal(path, ObjectCache.LocalKeyPath(key, '/'));
}
