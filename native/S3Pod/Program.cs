using S3Pod;
using S3Pod.Commands;

// The composition root: the real environment, console and working directory go in here and
// nowhere else.
// `--version` is what wrappers call to check a binary, on every job: answer before building the
// command tree (the bench's start-up figures are in bench/RESULTS.md).
if (args is ["--version"])
{
    Console.Out.WriteLine(BuildInfo.Version);
    return 0;
}
using var cancel = new CancellationTokenSource();
var app = new CliApp(Environment.GetEnvironmentVariable, Console.Out, Console.Error, !Console.IsErrorRedirected, Environment.CurrentDirectory);
return await app.RunAsync(args, cancel.Token);
