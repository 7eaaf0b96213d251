using System.Text;
using S3Pod.Assets;

namespace S3Pod.UnitTests.Assets;

/// <summary>The manifest in both shapes: read, classify, write back byte-stable.</summary>
public class AssetManifestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-manifest-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static AssetManifest Parse(string text) => AssetManifest.Parse("m.json", Encoding.UTF8.GetBytes(text));

    private static string Render(AssetManifest m) => Encoding.UTF8.GetString(m.Render());

    // What baiji-pod's `json.dump(manifest, f, sort_keys=True, indent=4)` writes (plus the newline
    // every text file should end with).
    private const string Baiji = """
        {
            "/dev.json": "/Users/me/Desktop/foo.obj",
            "/foo/bar.csv": "1.2.5",
            "/foo/bar.json": "0.1.6",
            "/shared/x.bin": "s3://other-bucket/path/x.bin"
        }

        """;

    private const string Ours = """
        {
            "assets": {
                "/foo/bar.csv": "1.2.5",
                "dev/thing": "./local/override.bin",
                "models/clf": {
                    "digest": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "version": "1.3"
                },
                "shared/x": "s3://other-bucket/path/x.bin"
            },
            "repository": "s3://bucket/s3pod",
            "schema": "s3pod.assets/v1"
        }

        """;

    [Fact]
    public void BaijiManifest_IsReadAsIs_AndWrittenBackByteForByte()
    {
        var m = Parse(Baiji);
        Assert.Equal(ManifestFormat.Baiji, m.Format);
        Assert.Equal(["/dev.json", "/foo/bar.csv", "/foo/bar.json", "/shared/x.bin"], m.Entries.Select(e => e.Key));
        Assert.Equal("1.2.5", m.Find("/foo/bar.csv")!.Version);
        Assert.Equal("1.2.5", m.Find("foo/bar.csv")!.Version); // the leading '/' is baiji's spelling, not part of the name
        Assert.Equal("/Users/me/Desktop/foo.obj", m.Find("dev.json")!.File);
        Assert.Equal("s3://other-bucket/path/x.bin", m.Find("shared/x.bin")!.Uri!.ToString());
        Assert.Equal(Baiji.Replace("\r", ""), Render(m));
    }

    [Fact]
    public void OurManifest_RoundTripsByteForByte_WithDigestsAndUnknownFields()
    {
        Assert.Equal(Ours.Replace("\r", ""), Render(Parse(Ours)));
        var withExtra = Ours.Replace("\"version\": \"1.3\"", "\"version\": \"1.3\",\n            \"zz-note\": {\"by\": \"ci\"}");
        var m = Parse(withExtra);
        Assert.Equal(ManifestFormat.S3Pod, m.Format);
        Assert.Equal("s3://bucket/s3pod", m.Repository);
        var clf = m.Find("models/clf")!;
        Assert.Equal(("1.3", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), (clf.Version, clf.Digest));
        Assert.Contains("\"zz-note\": {", Render(m)); // kept, not dropped by an older s3pod
        Assert.Equal(Render(m), Render(Parse(Render(m))));
    }

    [Fact]
    public void Writing_SortsKeys_AndTurnsBaijiIntoOurShapeOnlyWhenADigestNeedsIt()
    {
        var m = Parse("{\"/z.csv\": \"2.0.0\", \"/a.csv\": \"1.0.0\"}");
        Assert.Equal("{\n    \"/a.csv\": \"1.0.0\",\n    \"/z.csv\": \"2.0.0\"\n}\n", Render(m));
        m.Set(new ManifestEntry("m/new", "m/new", "3", null, null, null));
        Assert.Equal(ManifestFormat.Baiji, m.Format);
        m.Set(new ManifestEntry("a.csv", "a.csv", "1.0.1", "sha256:" + new string('0', 64), null, null));
        Assert.Equal(ManifestFormat.S3Pod, m.Format);
        var text = Render(m);
        Assert.Contains("\"/a.csv\": {", text); // the key keeps its baiji spelling
        Assert.True(text.IndexOf("\"/a.csv\"", StringComparison.Ordinal) < text.IndexOf("\"/z.csv\"", StringComparison.Ordinal));
        Assert.EndsWith("}\n", text);
        Assert.Equal(text, Render(Parse(text)));
    }

    [Fact]
    public void Save_WritesInOneRename_AndLoadReadsItBack()
    {
        var path = Path.Combine(_dir, "s3pod.assets.json");
        Assert.Null(AssetManifest.Load(path));
        var m = new AssetManifest(path, ManifestFormat.S3Pod);
        m.Set(new ManifestEntry("b", "b", "1.0", null, null, null));
        m.Save();
        Assert.Equal("{\n    \"assets\": {\n        \"b\": \"1.0\"\n    },\n    \"schema\": \"s3pod.assets/v1\"\n}\n", File.ReadAllText(path));
        Assert.Equal(["s3pod.assets.json"], Directory.GetFiles(_dir).Select(Path.GetFileName)); // no temp file left
        Assert.Equal("1.0", AssetManifest.Load(path)!.Find("b")!.Version);
    }

    [Theory]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("{\"a\": 3}", "must be a string")]
    [InlineData("{\"a/../b\": \"1.0\"}", "'..' segment")]
    [InlineData("{\"/a\": \"1.0\", \"a\": \"2.0\"}", "name the same asset")]
    [InlineData("{\"assets\": {\"a\": {\"digest\": \"sha256:00\"}}}", "needs \"version\"")]
    [InlineData("{\"assets\": {\"a\": {\"version\": \"1\", \"digest\": \"md5:00\"}}}", "is not sha256:")]
    [InlineData("{\"assets\": {}, \"schema\": \"s3pod.assets/v9\"}", "a newer s3pod")]
    [InlineData("{\"a\": \"s3://x/k\"}", "not a valid bucket")]
    [InlineData("{not json", "not valid JSON")]
    public void BadManifests_AreUsageErrors_NamingTheFileAndTheEntry(string text, string why)
    {
        var e = Assert.Throws<S3PodException>(() => Parse(text));
        Assert.Equal(FailureKind.Usage, e.Kind);
        Assert.Contains("m.json", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Theory]
    [InlineData("1.2.5", "version")]
    [InlineData("3", "version")]
    [InlineData("2025-01-02T03-04-05Z", "version")]
    [InlineData("./model.bin", "file")]
    [InlineData("model.bin", "file")]
    [InlineData("/abs/model.bin", "file")]
    [InlineData("~/model.bin", "file")]
    [InlineData("s3://bucket/model.bin", "s3")]
    public void StringValues_AreVersionsOrOverrides(string value, string kind) =>
        Assert.Equal(kind, Parse($"{{\"x\": \"{value}\"}}").Find("x")!.Kind);
}
