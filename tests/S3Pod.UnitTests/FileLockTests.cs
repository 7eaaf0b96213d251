using System.Diagnostics;
using S3Pod.Local;
using S3Pod.Storage;

namespace S3Pod.UnitTests;

/// <summary>The one local-disk lock: it waits only while another holder has it; anything else fails at once.</summary>
public sealed class FileLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task AHeldLock_IsWaitedFor_ThenGivenUpOnNamingIt()
    {
        var path = Path.Combine(_dir, "a.lock");
        using var held = await FileLock.AcquireAsync(path, "thing A", default);
        bool told = false;
        var e = await Assert.ThrowsAnyAsync<S3PodException>(() => FileLock.AcquireAsync(path, "thing A", default, TimeSpan.FromSeconds(3), () => told = true));
        Assert.Contains("another s3pod process has held the lock on thing A", e.Message);
        Assert.True(told);
    }

    [Fact]
    public async Task ALockThatCannotBeCreated_FailsAtOnce_WithoutWaiting_AsAStorageErrorInTheLocalStore()
    {
        // The control directory is a file: no amount of waiting makes the lock creatable (as EROFS or ENOSPC).
        var root = Directory.CreateDirectory(Path.Combine(_dir, "store")).FullName;
        File.WriteAllText(Path.Combine(root, ".s3pod"), "not a directory");
        var store = new LocalObjectStore(root, "");
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<StorageException>(() => store.HeadAsync("k", default));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"waited {clock.Elapsed.TotalSeconds:0} s for a lock that could never be taken");
        Assert.Equal(StorageFailure.LocalIO, e.Failure);
        Assert.Contains("cannot lock the local store", e.Message);
    }
}
