using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;
using S3Pod.Streams;

namespace S3Pod.Storage;

internal sealed partial class S3ObjectStore
{
    private static int _stsRegistered;

    /// <summary>
    /// The AWS default chain's web identity provider (GitHub OIDC, EKS service accounts) calls STS
    /// through a client the SDK normally loads by reflection, which native AOT cannot do: hand it one.
    /// AssumeRoleWithWebIdentity is an unsigned call, so the client needs no credentials of its own.
    /// </summary>
    private static void RegisterSecurityTokenService()
    {
        if (Interlocked.Exchange(ref _stsRegistered, 1) != 0) return;
        Amazon.RuntimeDependencies.GlobalRuntimeDependencyRegistry.Instance.RegisterSecurityTokenServiceClient(context =>
        {
            var region = context.SecurityTokenServiceClientContextData?.Region ?? Amazon.RegionEndpoint.USEast1;
            return new AmazonSecurityTokenServiceClient(new AnonymousAWSCredentials(), new AmazonSecurityTokenServiceConfig { RegionEndpoint = region });
        });
    }

    /// <summary>
    /// The SDK's HTTP client, on connections a <see cref="TransferWatchdog"/> can see into
    /// (<see cref="WatchedConnections"/>). As the SDK's own: no redirects, no decompression, the
    /// environment's proxy settings; no overall timeout (the watchdog bounds every wait); one client
    /// per store, reused.
    /// </summary>
    private sealed class WatchedHttpClientFactory(TimeSpan connectTimeout) : HttpClientFactory
    {
        private HttpClient? _client;

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => LazyInitializer.EnsureInitialized(ref _client, () => new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = connectTimeout,
            ConnectCallback = WatchedConnections.ConnectAsync,
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan });

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override string GetConfigUniqueString(IClientConfig clientConfig) => "s3pod-watched";
    }

    /// <summary>Keeps the SDK response alive as long as its body stream is read.</summary>
    private sealed class OwningStream(Stream inner, IDisposable owner) : WrappingReadStream(inner)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing) owner.Dispose();
        }
    }

    /// <summary>
    /// The SDK sends bucket-level requests to <c>/bucket/</c>. Servers that canonicalise the path they
    /// received (AWS, MinIO, Ceph) don't mind; s3rver signs <c>/bucket</c> and answers
    /// SignatureDoesNotMatch. Dropping the trailing slash before signing is what the AWS CLI sends
    /// and every server accepts.
    /// </summary>
    private sealed class BucketPathFix : PipelineHandler, IRuntimePipelineCustomizer
    {
        private static int _registered;

        public static void EnsureRegistered()
        {
            if (Interlocked.Exchange(ref _registered, 1) == 0) RuntimePipelineCustomizerRegistry.Instance.Register(new BucketPathFix());
        }

        public string UniqueName => "s3pod-bucket-path";

        public void Customize(Type type, RuntimePipeline pipeline)
        {
            if (type == typeof(AmazonS3Client)) pipeline.AddHandlerBefore<Signer>(new BucketPathFix());
        }

        public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
        {
            var request = executionContext.RequestContext.Request;
            if (request.OriginalRequest is ListObjectsV2Request or HeadBucketRequest or PutBucketRequest
                && request.ResourcePath is null or "" or "/"
                && request.Endpoint is { AbsolutePath.Length: > 1 } endpoint && endpoint.AbsolutePath.EndsWith('/'))
            {
                // Path-style: the bucket is in the endpoint ("http://host/bucket/") and the resource is "/";
                // the URL composer always puts a '/' between the two, so move the bucket into the resource.
                request.Endpoint = new Uri(endpoint.GetLeftPart(UriPartial.Authority));
                request.ResourcePath = endpoint.AbsolutePath.TrimEnd('/');
            }
            return base.InvokeAsync<T>(executionContext);
        }
    }
}
