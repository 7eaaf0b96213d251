using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace S3Pod.Storage;

/// <summary>
/// What a server enforces, found by probing (never assumed from the endpoint: Garage and s3rver
/// accept the conditional headers and ignore them, Ceph RGW 16 enforces them on PUT only).
/// </summary>
/// <param name="CreateOnly">A single PUT with <c>If-None-Match: *</c> fails when the key exists.</param>
/// <param name="CompareAndSwap">A single PUT with <c>If-Match</c> fails unless the ETag matches.</param>
/// <param name="MultipartConditional">CompleteMultipartUpload honours both conditions (AWS, MinIO; not RGW 16).</param>
/// <param name="ConditionalDelete">DELETE with <c>If-Match</c> fails unless the ETag matches.</param>
/// <param name="UnquotedIfMatch">The server compares <c>If-Match</c> against the bare ETag (RGW 16).</param>
/// <param name="Detail">One line for people (doctor).</param>
/// <param name="ProbedAt">When the probe ran; a day later it runs again.</param>
internal sealed record StoreCapabilities(
    bool CreateOnly,
    bool CompareAndSwap,
    bool MultipartConditional,
    bool ConditionalDelete,
    bool UnquotedIfMatch,
    string Detail,
    DateTimeOffset ProbedAt)
{
    /// <summary>The local store does every condition under its lock.</summary>
    public static StoreCapabilities Local(DateTimeOffset now) =>
        new(true, true, true, true, false, "create-only, compare-and-swap and conditional delete enforced (store lock)", now);

    /// <summary>Whether a ledger (artifacts) can rely on this server for concurrent writers.</summary>
    public bool SupportsLedger => CreateOnly && CompareAndSwap;

    public static string Describe(bool createOnly, bool cas, bool multipart, bool delete, bool unquoted)
    {
        var parts = new List<string>();
        parts.Add(createOnly ? "create-only enforced" : "create-only (If-None-Match) IGNORED");
        parts.Add(cas ? "compare-and-swap enforced" + (unquoted ? " (If-Match needs the unquoted ETag: Ceph RGW behaviour)" : "") : "compare-and-swap (If-Match) IGNORED");
        parts.Add(multipart ? "enforced on multipart uploads too" : "not enforced on CompleteMultipartUpload");
        parts.Add(delete ? "conditional delete enforced" : "conditional delete ignored");
        return string.Join("; ", parts);
    }
}

/// <summary>
/// Remembers probed capabilities per endpoint + bucket in a small file under the user's cache
/// directory (<c>capabilities/&lt;digest&gt;.json</c>), so a write that depends on enforcement can
/// ask cheaply; entries older than <see cref="MaxAge"/> are probed again. A cache directory that
/// cannot be written only costs a probe per run.
/// </summary>
internal sealed class CapabilityCache(string cacheDirectory, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(1);

    private string PathFor(string endpoint, string bucket)
    {
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(endpoint + "\n" + bucket)))[..24];
        return Path.Combine(cacheDirectory, "capabilities", digest + ".json");
    }

    public StoreCapabilities? TryGet(string endpoint, string bucket)
    {
        try
        {
            var record = JsonSerializer.Deserialize(File.ReadAllBytes(PathFor(endpoint, bucket)), StoredJson.Default.CapabilityRecord);
            if (record is null || record.Schema != CapabilityRecord.CurrentSchema || record.Endpoint != endpoint || record.Bucket != bucket) return null;
            if (clock.GetUtcNow() - record.Capabilities.ProbedAt > MaxAge) return null;
            return record.Capabilities;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public void Remember(string endpoint, string bucket, StoreCapabilities capabilities)
    {
        var path = PathFor(endpoint, bucket);
        try
        {
            Local.AtomicFile.WriteJson(path, new CapabilityRecord(CapabilityRecord.CurrentSchema, endpoint, bucket, capabilities), StoredJson.Default.CapabilityRecord);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not fatal: the next run probes again.
        }
    }
}

/// <summary>The capability cache file (a stored format: versioned, separate from CLI output).</summary>
internal sealed record CapabilityRecord(string Schema, string Endpoint, string Bucket, StoreCapabilities Capabilities)
{
    public const string CurrentSchema = "s3pod.capabilities/v1";
}
