using S3Pod.Keys;

namespace S3Pod.UnitTests;

public class GlobTests
{
    [Theory]
    [InlineData("**/go.sum", "go.sum", true)]
    [InlineData("**/go.sum", "a/b/go.sum", true)]
    [InlineData("**/go.sum", "a/b/go.summary", false)]
    [InlineData("*.txt", "a.txt", true)]
    [InlineData("*.txt", "d/a.txt", false)]
    [InlineData("src/**", "src/a/b", true)]
    [InlineData("f?o", "foo", true)]
    [InlineData("f?o", "f/o", false)]
    [InlineData("[ab].c", "b.c", true)]
    [InlineData("[!ab].c", "b.c", false)]
    [InlineData("*", ".hidden", true)]
    public void IsMatch(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));

    [Theory]
    [InlineData("a/b/*.txt", "a/b")]
    [InlineData("**/x", "")]
    [InlineData("plain/file", "plain")]
    public void LiteralBase(string pattern, string expected) => Assert.Equal(expected, Glob.LiteralBase(pattern));
}
