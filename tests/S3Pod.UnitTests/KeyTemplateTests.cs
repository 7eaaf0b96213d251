using S3Pod.Commands;
using S3Pod.Keys;

namespace S3Pod.UnitTests;

public class KeyTemplateTests
{
    private const string Digest = "5891b5b522d5df08a6f7a3e2b1c4d9e8f0a1b2c3d4e5f60718293a4b5c6d7e8f";

    [Theory]
    [InlineData("img/{hash}.tar.zst", "img/5891b5b522d5df08.tar.zst")]
    [InlineData("img/build.tar.zst", "img/build-5891b5b522d5df08.tar.zst")]
    [InlineData("bin/tool", "bin/tool-5891b5b522d5df08")]
    [InlineData("a.b/c", "a.b/c-5891b5b522d5df08")]
    [InlineData(".cache", ".cache-5891b5b522d5df08")]
    [InlineData("go-{hash}-{hash}", "go-5891b5b522d5df08-5891b5b522d5df08")]
    public void Apply_InsertsHash(string template, string expected) =>
        Assert.Equal(expected, KeyTemplate.Apply(template, Digest, 16, archSuffix: false));

    [Fact]
    public void Apply_HashLength_Truncates() =>
        Assert.Equal("k-5891b5", KeyTemplate.Apply("k-{hash}", Digest, 6, false));

    [Fact]
    public void Apply_ArchSuffix_UsesGoNamesBeforeExtension()
    {
        var key = KeyTemplate.Apply("bin/tool", null, 16, archSuffix: true);
        Assert.Matches(@"^bin/tool-(linux|darwin|windows|freebsd)-(amd64|arm64|386|arm)$", key);
        Assert.EndsWith(".tar.zst", KeyTemplate.Apply("img/x.tar.zst", null, 16, true));
    }

    [Fact]
    public void Apply_PlaceholderWithoutInputs_IsUsageError()
    {
        var e = Assert.Throws<S3PodException>(() => KeyTemplate.Apply("img/{hash}", null, 16, false));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("--hash-from", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Apply_BadHashLength_IsRefused(int length) =>
        Assert.Throws<S3PodException>(() => KeyTemplate.Apply("k", Digest, length, false));
}
