using System.Text.Json;
using S3Pod.Artifacts;
using S3Pod.Storage;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>The stored records are a format other tools read: exactly the fields the README documents, nothing computed.</summary>
public class RecordFormatTests
{
    private static readonly DateTimeOffset When = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string[] Keys(byte[] json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void VersionRecord_HasTheDocumentedFields()
    {
        var record = new VersionRecord(VersionRecord.CurrentSchema, "app", "3", "int", "directory", "streamed/ab.tzst", "sha256:00", 10, 20, 2,
            "a.bin", "0755", "application/zstd", When, "s3pod 1.0.0 on host", "w1", "etag", new() { ["git"] = "abc" });
        Assert.Equal(
            ["basename", "blob", "contentSize", "contentType", "created", "createdBy", "digest", "files", "fromHead", "kind", "metadata", "mode", "name", "schema", "scheme", "size", "version", "writer"],
            Keys(JsonSerializer.SerializeToUtf8Bytes(record, ArtifactJson.Default.VersionRecord)));
        var back = JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(record, ArtifactJson.Default.VersionRecord), ArtifactJson.Default.VersionRecord)!;
        Assert.Equal(record.Content, back.Content);
        Assert.Equal("abc", back.Metadata!["git"]);
        // A directory version also names its tree (the content identity --if-changed compares).
        var withTree = record with { TreeDigest = "sha256:11" };
        Assert.Contains("treeDigest", Keys(JsonSerializer.SerializeToUtf8Bytes(withTree, ArtifactJson.Default.VersionRecord)));
        Assert.Equal("sha256:11", JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(withTree, ArtifactJson.Default.VersionRecord), ArtifactJson.Default.VersionRecord)!.Content.TreeDigest);
    }

    [Fact]
    public void OtherRecords_HaveTheDocumentedFields()
    {
        Assert.Equal(["created", "createdBy", "name", "schema", "scheme"],
            Keys(JsonSerializer.SerializeToUtf8Bytes(new ArtifactRecord(ArtifactRecord.CurrentSchema, "app", "int", When, "me"), ArtifactJson.Default.ArtifactRecord)));
        Assert.Equal(["deleted", "deletedBy", "reason", "schema", "version"],
            Keys(JsonSerializer.SerializeToUtf8Bytes(new TombstoneRecord(TombstoneRecord.CurrentSchema, "3", When, "me", "rm"), ArtifactJson.Default.TombstoneRecord)));
        Assert.Equal(["alias", "previous", "schema", "secondary", "updated", "updatedBy", "version", "weight"],
            Keys(JsonSerializer.SerializeToUtf8Bytes(new AliasRecord(AliasRecord.CurrentSchema, "live", "3", "4", 10, When, "me", "2"), ArtifactJson.Default.AliasRecord)));
        // A removed alias: no version at all.
        var removed = JsonSerializer.SerializeToUtf8Bytes(new AliasRecord(AliasRecord.CurrentSchema, "live", null, null, 0, When, "me", "3"), ArtifactJson.Default.AliasRecord);
        Assert.DoesNotContain("version", Keys(removed));
        Assert.True(JsonSerializer.Deserialize(removed, ArtifactJson.Default.AliasRecord)!.Removed);
        Assert.Equal(["blob", "contentType", "digest", "kind", "schema", "size", "updated", "updatedBy"],
            Keys(JsonSerializer.SerializeToUtf8Bytes(new HeadRecord(HeadRecord.CurrentSchema, "file", "sha256/00/00", "sha256:00", 1, null, null, null, null, "x", null, When, "me"), ArtifactJson.Default.HeadRecord)));
    }
}
