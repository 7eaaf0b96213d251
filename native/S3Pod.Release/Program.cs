using S3Pod.Release;

// s3pod-release --tag vX.Y.Z --repo owner/name [--dist dist] [--api-url URL] [--pin release-sums.json]...
// The token comes from GITHUB_TOKEN (never from the command line). Exit 0 published and verified,
// 1 a verification or GitHub failure, 2 bad usage or a dist/ that does not match its SHA256SUMS.
try
{
    var options = ReleaseOptions.Parse(args, Environment.GetEnvironmentVariable, Directory.GetCurrentDirectory());
    var publisher = new ReleasePublisher(options, Console.Out);
    await publisher.RunAsync(CancellationToken.None);
    return 0;
}
catch (ReleaseException e)
{
    Console.Error.WriteLine($"s3pod-release: {e.Message}");
    return e.ExitCode;
}
