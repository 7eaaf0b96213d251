using S3Pod.Artifacts;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>Names, alias names and the spec grammar.</summary>
public class ArtifactSpecTests
{
    private const string Hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Theory]
    [InlineData("app", "app")]
    [InlineData("/foo/bar.csv", "foo/bar.csv")]        // baiji's rooted paths
    [InlineData("models/clf-2_x.v1", "models/clf-2_x.v1")]
    public void Names_AreNormalised(string given, string expected) => Assert.Equal(expected, ArtifactNames.Validate(given));

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a/../b")]
    [InlineData("./a")]
    [InlineData("a/_versions")]
    [InlineData("_x")]
    [InlineData("a b")]
    [InlineData("a:b")]
    [InlineData("a@b")]
    [InlineData("ünï")]
    public void BadNames_AreUsageErrors(string name)
    {
        var e = Assert.Throws<S3PodException>(() => ArtifactNames.Validate(name));
        Assert.Equal(FailureKind.Usage, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
        // An asset's name is an artifact name: the asset side refuses it too, naming its spec.
        var asset = Assert.Throws<S3PodException>(() => S3Pod.Assets.AssetSpec.ValidName(name));
        Assert.Equal(FailureKind.Usage, asset.Kind);
        Assert.StartsWith("asset spec", asset.Message);
    }

    [Fact]
    public void LongName_IsRefused_AlikeOnTheAssetSide()
    {
        Assert.Equal(200, ArtifactNames.Validate(new string('a', 200)).Length);
        Assert.Equal(200, S3Pod.Assets.AssetSpec.ValidName(new string('a', 200)).Length);
        Assert.Throws<S3PodException>(() => ArtifactNames.Validate(new string('a', 201)));
        Assert.Throws<S3PodException>(() => S3Pod.Assets.AssetSpec.ValidName(new string('a', 201)));
    }

    [Theory]
    [InlineData("live", true)]
    [InlineData("prod-eu.v2", true)]
    [InlineData("latest", false)]
    [InlineData("Latest", false)]
    [InlineData("head", false)]
    [InlineData("LATEST", false)]
    [InlineData("1live", false)]
    [InlineData("-x", false)]
    [InlineData("a/b", false)]
    public void AliasNames(string alias, bool valid)
    {
        if (valid) Assert.Equal(alias, ArtifactNames.ValidateAlias(alias));
        else Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => ArtifactNames.ValidateAlias(alias)).Kind);
    }

    [Fact]
    public void Spec_AllParts()
    {
        var s = ArtifactSpec.Parse($"models/clf:1.2@sha256:{Hex.ToUpperInvariant()}[weights/big.bin]");
        Assert.Equal("models/clf", s.Name);
        Assert.Equal("1.2", s.SelectorText);
        Assert.Equal(Hex, s.PinnedDigest);
        Assert.Equal("weights/big.bin", s.SubPath);
        Assert.Equal($"models/clf:1.2@sha256:{Hex}[weights/big.bin]", s.ToString());
    }

    [Fact]
    public void Spec_NameOnly_MeansLatest()
    {
        var s = ArtifactSpec.Parse("/app");
        Assert.Equal(new ArtifactSpec("app", null, null, null, ManifestPath: true), s);
        Assert.IsType<Selector.Latest>(Selector.Parse(s.SelectorText, VersionScheme.Int));
    }

    [Theory]
    [InlineData("app:")]
    [InlineData("app@sha256:abc")]
    [InlineData("app@md5:" + Hex)]
    [InlineData("app[a/../../b]")]
    [InlineData("app[]")]
    [InlineData("app[a]extra")]
    [InlineData("app[a][b]")]
    [InlineData("app[/]")]
    [InlineData("app[a\\..\\..\\b]")]
    [InlineData("app:[x]")]
    [InlineData("")]
    public void BadSpecs_AreUsageErrors(string spec)
    {
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => ArtifactSpec.Parse(spec)).Kind);
        // One grammar: an asset spec refuses what an artifact spec refuses.
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => S3Pod.Assets.AssetSpec.Parse(spec)).Kind);
    }

    [Theory]
    [InlineData("app", "app", null, null, null)]
    [InlineData("/foo/bar.csv:1.2", "foo/bar.csv", "1.2", null, null)]
    [InlineData("models/clf:prod@sha256:" + Hex + "[a//b/./c/]", "models/clf", "prod", Hex, "a/b/c")]
    [InlineData("m/x:1.2.3-rc.1[/sub]", "m/x", "1.2.3-rc.1", null, "sub")]
    public void ArtifactAndAssetSpecs_ParseAlike(string text, string name, string? selector, string? digest, string? sub)
    {
        var artifact = ArtifactSpec.Parse(text);
        var asset = S3Pod.Assets.AssetSpec.Parse(text);
        Assert.Equal(new ArtifactSpec(name, selector, digest, sub, text.StartsWith('/')), artifact);
        Assert.Equal((name, selector, digest is null ? null : "sha256:" + digest, sub, text.StartsWith('/')), (asset.Name, asset.Selector, asset.Digest, asset.SubPath, asset.ManifestPath));
    }

    [Fact]
    public void Selector_DependsOnTheScheme()
    {
        Assert.Equal("1", Assert.IsType<Selector.Exact>(Selector.Parse("1", VersionScheme.Int)).Version.Text);
        Assert.Equal("1", Assert.IsType<Selector.Partial>(Selector.Parse("1", VersionScheme.Semver)).Prefix.Text);
        Assert.Equal("1.2", Assert.IsType<Selector.Partial>(Selector.Parse("1.2", VersionScheme.Semver)).Prefix.Text);
        Assert.IsType<Selector.Exact>(Selector.Parse("1.2", VersionScheme.MajorMinor));
        Assert.IsType<Selector.Partial>(Selector.Parse("1", VersionScheme.MajorMinor));
        Assert.Equal("live", Assert.IsType<Selector.Alias>(Selector.Parse("live", VersionScheme.Int)).Name);
        Assert.IsType<Selector.Latest>(Selector.Parse("latest", VersionScheme.Int));
        Assert.IsType<Selector.Head>(Selector.Parse("head", VersionScheme.Int));
        Assert.IsType<Selector.Head>(Selector.Parse("LATEST", VersionScheme.Int)); // versioned's staging head
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => Selector.Parse("Latest", VersionScheme.Int)).Kind);
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => Selector.Parse("1.2", VersionScheme.Int)).Kind);
        Assert.Equal(FailureKind.Usage, Assert.Throws<S3PodException>(() => Selector.Parse("0", VersionScheme.Int)).Kind);
    }
}
