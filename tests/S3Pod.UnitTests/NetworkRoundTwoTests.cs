using Microsoft.Extensions.Time.Testing;
using S3Pod.Assets;
using S3Pod.Config;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;

namespace S3Pod.UnitTests;

/// <summary>Issue 16, the network half: the settings, words and redaction the fault suite relies on.</summary>
public class NetworkRoundTwoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-net2-").FullName;
    private readonly Dictionary<string, string> _env = new();

    public NetworkRoundTwoTests() => _env["HOME"] = _dir;

    public void Dispose() => Directory.Delete(_dir, true);

    private string? Env(string name) => _env.TryGetValue(name, out var v) ? v : null;

    [Fact]
    public void OperationAndRevalidateTimeouts_HaveShortDefaults_AndAreSettings()
    {
        var defaults = Settings.Resolve(new Dictionary<string, string?>(), Env);
        Assert.True(defaults.Network.OperationTimeout <= TimeSpan.FromSeconds(120));
        Assert.True(defaults.Network.RevalidateTimeout <= TimeSpan.FromSeconds(15));
        _env["S3POD_OPERATION_TIMEOUT"] = "7s";
        var set = Settings.Resolve(new Dictionary<string, string?> { ["revalidate_timeout"] = "3s" }, Env);
        Assert.Equal(TimeSpan.FromSeconds(7), set.Network.OperationTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), set.Network.RevalidateTimeout);
    }

    [Fact]
    public void ProgressBudget_CountsSilenceUnderWay_AcrossAttempts_UntilSettled()
    {
        var clock = new FakeTimeProvider();
        var budget = new ProgressBudget(TimeSpan.FromSeconds(10), clock);
        clock.Advance(TimeSpan.FromMinutes(5)); // local work before any request
        Assert.False(budget.Exhausted);
        // Attempts that each get a few bytes and then stall: the stalls add up.
        for (int attempt = 0; attempt < 2; attempt++)
        {
            budget.Begin();
            budget.Progress();
            clock.Advance(TimeSpan.FromSeconds(4));
            budget.End();
            clock.Advance(TimeSpan.FromMinutes(1)); // not under way: does not count
        }
        budget.Begin();
        budget.Progress();
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(budget.Exhausted);
        Assert.True(budget.WouldPass(TimeSpan.FromSeconds(1)));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(budget.Exhausted);
        Assert.Contains("operation_timeout", budget.Describe());
        // An answer gives it back whole.
        budget.Settled();
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(budget.Exhausted);
    }

    [Fact]
    public void Watchdog_EndsAnAttempt_WhenTheOperationBudgetIsGone_BeforeItsOwnLimit()
    {
        var clock = new FakeTimeProvider();
        var budget = new ProgressBudget(TimeSpan.FromSeconds(5), clock);
        using var first = new TransferWatchdog(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), clock, default, TransferWatchdog.Stage.AwaitingResponse, budget);
        for (int i = 0; i < 6; i++) clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(first.Token.IsCancellationRequested);
        Assert.True(first.BudgetExpired);
        Assert.Contains("operation_timeout", first.Expired);
    }

    [Theory]
    [InlineData("http://host:4880/?token=s3cr3tT0ken99", "s3cr3tT0ken99")]
    [InlineData("http://host:4880/gw/s3cr3tPathT0ken/", "s3cr3tPathT0ken")]
    public void EndpointToken_IsHiddenInTheEndpointAndInAnyMessage(string endpoint, string token)
    {
        var shown = Redaction.Url(endpoint);
        Assert.StartsWith("http://host:4880", shown);
        Assert.DoesNotContain(token, shown);
        Assert.DoesNotContain(token, Redaction.Apply($"cannot reach {endpoint}: Connection refused ({Uri.EscapeDataString(endpoint)})"));
        // Settings registers it too: a malformed neighbour of the message still hides it.
        _env["S3POD_ENDPOINT"] = endpoint;
        Settings.Resolve(new Dictionary<string, string?>(), Env);
        Assert.DoesNotContain(token, Redaction.Apply($"GET {endpoint}k failed"));
    }

    [Theory]
    [InlineData("bucket = \"abc\nregion = 5\n", "line 1, column 14: invalid newline in a string")]
    [InlineData("bucket = \"abcd\"\nretries = = 3\n", "line 2, column 11: unexpected token `=` while parsing a value")]
    public void MalformedToml_NamesTheFileLineAndProblem(string text, string expected)
    {
        var path = Path.Combine(_dir, "bad.toml");
        File.WriteAllText(path, text);
        _env["S3POD_CONFIG"] = path;
        var e = Assert.Throws<S3PodException>(() => Settings.Resolve(new Dictionary<string, string?>(), Env));
        Assert.Equal($"config file {path} is not valid TOML: {expected}", e.Message);
    }

    [Fact]
    public void ACopyMarkedForRevalidation_IsNotSaidToBeDecadesOld()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(57);
        Assert.DoesNotContain(" d ago", AssetText.LastChecked(DateTimeOffset.UnixEpoch, now));
        Assert.Equal("last checked 3 h ago", AssetText.LastChecked(now.AddHours(-3), now));
    }

    [Fact]
    public async Task Revalidation_PastItsLimit_IsATimeoutOfTheStore()
    {
        var e = await Assert.ThrowsAsync<StorageException>(() => NetworkPolicy.RevalidateAsync(TimeSpan.FromMilliseconds(50), "s3://b/k",
            async token => { await Task.Delay(Timeout.Infinite, token); return 0; }, default));
        Assert.True(e.IsUnreachable);
        Assert.Contains("revalidate_timeout", e.Message);
    }
}
