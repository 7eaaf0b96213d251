using S3Pod.Cache;

namespace S3Pod.UnitTests;

public class CachePathsTests
{
    private const string Cwd = "/work/repo";
    private const string Home = "/home/runner";

    [Fact]
    public void Anchors_WorkspaceHomeAndRoot()
    {
        var p = new CachePaths(["x"], Cwd, Home);
        Assert.Equal("w/node_modules", p.Anchor("/work/repo/node_modules"));
        Assert.Equal("h/.npm", p.Anchor("/home/runner/.npm"));
        Assert.Equal("r/opt/tool", p.Anchor("/opt/tool"));
        Assert.Equal("/home/runner/.npm/x", p.Unanchor("h/.npm/x"));
        Assert.Null(p.Unanchor("z/evil"));
    }

    [Fact]
    public void Version_DependsOnThePathList()
    {
        var a = new CachePaths(["node_modules", "~/.npm"], Cwd, Home).Version;
        Assert.Equal(a, new CachePaths(["node_modules", "~/.npm"], "/elsewhere", "/root").Version);
        Assert.NotEqual(a, new CachePaths(["node_modules"], Cwd, Home).Version);
        Assert.NotEqual(a, new CachePaths(["~/.npm", "node_modules"], Cwd, Home).Version);
    }

    [Fact]
    public void Locator_OnlyAllowsRequestedPaths()
    {
        var locate = new CachePaths(["node_modules", "~/.npm", "!node_modules/.cache"], Cwd, Home).Locator();
        Assert.Equal(("/work/repo", "node_modules/a/b"), locate("w/node_modules/a/b"));
        Assert.Equal(("/home/runner", ".npm"), locate("h/.npm"));
        Assert.Null(locate("h/.bashrc"));
        Assert.Null(locate("w/node_modules_evil/x"));
        Assert.Null(locate("r/etc/passwd"));
    }

    [Fact]
    public void Exclusions_ExcludeWholeSubtrees()
    {
        var p = new CachePaths(["node_modules", "!node_modules/.cache", "!**/*.log"], Cwd, Home);
        Assert.True(p.IsExcluded("w/node_modules/.cache"));
        Assert.True(p.IsExcluded("w/node_modules/.cache/x/y"));
        Assert.True(p.IsExcluded("w/node_modules/a/debug.log"));
        Assert.False(p.IsExcluded("w/node_modules/a/index.js"));
    }

    [Fact]
    public void BadSpecs_AreUsageErrors()
    {
        Assert.Throws<S3PodException>(() => new CachePaths([], Cwd, Home));
        Assert.Throws<S3PodException>(() => new CachePaths(["!x"], Cwd, Home));
        Assert.Throws<S3PodException>(() => new CachePaths(["/"], Cwd, Home));
    }

    [Fact]
    public void Layout_ParsesWhatItBuilds()
    {
        var name = CacheLayout.Archive("refs/pull/7/merge", "npm-linux/abc", "0123456789abcdef", "w1");
        Assert.Equal("caches/refs%2Fpull%2F7%2Fmerge/npm-linux/abc/0123456789abcdef.w1.tzst", name);
        Assert.Equal(new CacheLayout.Name("refs/pull/7/merge", "npm-linux/abc", "0123456789abcdef", false, "w1"), CacheLayout.Parse(name));
        Assert.Equal(new CacheLayout.Name("s", "k", "v", false, null), CacheLayout.Parse(CacheLayout.Archive("s", "k", "v", null)));
        Assert.Equal(new CacheLayout.Name("s", "a/b", "v", true, null), CacheLayout.Parse(CacheLayout.Manifest("s", "a/b", "v")));
        Assert.Null(CacheLayout.Parse("caches/s/k/v.txt"));
        Assert.Null(CacheLayout.Parse("caches-used/s/k/v"));
    }
}
