using S3Pod.Archive;

namespace S3Pod.UnitTests.Archive;

/// <summary>The name checker behind the Windows and case-insensitivity rules: pure logic, testable anywhere.</summary>
public class FileNameRulesTests
{
    [Theory]
    [InlineData("CON", "reserved device name")]
    [InlineData("con", "reserved device name")]
    [InlineData("dir/NUL.txt", "reserved device name")]
    [InlineData("Com1.tar.gz", "reserved device name")]
    [InlineData("LPT9", "reserved device name")]
    [InlineData("a/aux .c", "reserved device name")]
    [InlineData("COM¹", "reserved device name")]
    [InlineData("CONOUT$", "reserved device name")]
    [InlineData("a:b", "':'")]
    [InlineData("C:evil", "':'")]
    [InlineData("dir/what?", "'?'")]
    [InlineData("star*", "'*'")]
    [InlineData("x<y", "'<'")]
    [InlineData("x>y", "'>'")]
    [InlineData("quote\"d", "'\"'")]
    [InlineData("pi|pe", "'|'")]
    [InlineData("a\\..\\..\\evil", "'\\'")]
    [InlineData("bell\u0007", "control characters")]
    [InlineData("trailing.", "trailing dot or space")]
    [InlineData("dir./x", "trailing dot or space")]
    [InlineData("space ", "trailing dot or space")]
    public void WindowsForbidden_IsRefusedWithTheReason(string name, string reason)
    {
        var why = FileNameRules.RefuseOnWindows(name);
        Assert.NotNull(why);
        Assert.Contains(reason, why);
    }

    [Theory]
    [InlineData("CONSOLE")]
    [InlineData("console.log")]
    [InlineData("com10")]
    [InlineData("LPT")]
    [InlineData("my.con")]
    [InlineData("nul-device/x.txt")]
    [InlineData(".gitignore")]
    [InlineData("ünïcødé 日本語/файл.txt")]
    [InlineData("a b/c d.txt")]
    public void WindowsAllowed_Passes(string name) => Assert.Null(FileNameRules.RefuseOnWindows(name));

    [Theory]
    [InlineData("README.md", "readme.MD")]
    [InlineData("Straße", "STRASSE", false)]
    [InlineData("ÄRGER", "ärger")]
    public void Fold_TellsWhichNamesBecomeOne(string a, string b, bool same = true) =>
        Assert.Equal(same, FileNameRules.Fold(a) == FileNameRules.Fold(b));
}
