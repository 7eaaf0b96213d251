using S3Pod.Commands;

// The composition root: the real environment, console and working directory go in here and
// nowhere else.
using var cancel = new CancellationTokenSource();
var app = new CliApp(Environment.GetEnvironmentVariable, Console.Out, Console.Error, !Console.IsErrorRedirected, Environment.CurrentDirectory);
return await app.RunAsync(args, cancel.Token);
