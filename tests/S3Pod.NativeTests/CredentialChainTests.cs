using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace S3Pod.NativeTests;

/// <summary>
/// The AWS default chain inside the AOT binary: web identity (GitHub OIDC, EKS) needs an STS client
/// the SDK would normally load by reflection. A local stand-in for STS and S3 records what arrives.
/// </summary>
public sealed class CredentialChainTests
{
    [SkippableFact]
    public void WebIdentityToken_IsExchangedAtSts_AndItsCredentialsSignS3Requests()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        using var fake = new FakeAws();
        var tokenFile = Path.Combine(b.Home, "oidc-token");
        File.WriteAllText(tokenFile, "eyJ-test-token");
        // The SDK ignores a token file that is not fully qualified, as /dev/shm/... is on Windows (no drive).
        b.Env["AWS_WEB_IDENTITY_TOKEN_FILE"] = Binary.Wine ? Binary.WinPath(tokenFile) : tokenFile;
        b.Env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/ci-cache";
        b.Env["AWS_ENDPOINT_URL_STS"] = fake.Url;
        b.Env["AWS_REGION"] = "us-east-1";
        b.Env["S3POD_ENDPOINT"] = fake.Url;
        b.Env["S3POD_BUCKET"] = "oidc-bucket";

        var r = b.Exec("exists", "some/key");
        Assert.True(r.Code == 1, r.All); // the stand-in S3 has the bucket but not the key
        var sts = Assert.Single(fake.Requests, q => q.StartsWith("POST"));
        Assert.Contains("Action=AssumeRoleWithWebIdentity", sts);
        Assert.Contains("WebIdentityToken=eyJ-test-token", sts);
        Assert.Contains(fake.Requests, q => q.StartsWith("HEAD /oidc-bucket/some/key") && q.Contains("Credential=ASIAOIDCTEST0001/") && q.Contains("token=session-from-sts"));
        Assert.DoesNotContain("session-from-sts", r.All);
    }

    private sealed class FakeAws : IDisposable
    {
        private readonly HttpListener _listener;
        public ConcurrentQueue<string> Requests { get; } = new();
        public string Url { get; }

        public FakeAws()
        {
            (_listener, var url) = HttpListeners.StartOnFreePort();
            Url = url.TrimEnd('/');
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext c;
                    try { c = await _listener.GetContextAsync(); } catch { return; }
                    var body = await new StreamReader(c.Request.InputStream).ReadToEndAsync();
                    Requests.Enqueue($"{c.Request.HttpMethod} {c.Request.RawUrl} auth={c.Request.Headers["Authorization"]} token={c.Request.Headers["X-Amz-Security-Token"]} {body}");
                    if (c.Request.HttpMethod == "POST")
                    {
                        var xml = Encoding.UTF8.GetBytes("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials>" +
                            "<AccessKeyId>ASIAOIDCTEST0001</AccessKeyId><SecretAccessKey>secret-from-sts</SecretAccessKey><SessionToken>session-from-sts</SessionToken>" +
                            "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>");
                        c.Response.ContentType = "text/xml";
                        c.Response.ContentLength64 = xml.Length;
                        await c.Response.OutputStream.WriteAsync(xml);
                    }
                    else
                    {
                        // Bucket-level requests succeed (an empty listing); objects are missing.
                        bool bucketLevel = c.Request.Url!.AbsolutePath.Trim('/').Split('/').Length == 1;
                        c.Response.StatusCode = bucketLevel ? 200 : 404;
                        if (bucketLevel && c.Request.HttpMethod == "GET")
                        {
                            var xml = Encoding.UTF8.GetBytes("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>oidc-bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>");
                            c.Response.ContentLength64 = xml.Length;
                            await c.Response.OutputStream.WriteAsync(xml);
                        }
                    }
                    c.Response.Close();
                }
            });
        }

        public void Dispose() => _listener.Stop();
    }
}
