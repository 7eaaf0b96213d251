using System.Net;

namespace S3Pod.NativeTests;

/// <summary>Local HTTP stand-ins (an --url origin, a fake STS) on a free loopback port.</summary>
internal static class HttpListeners
{
    /// <summary>
    /// Starts a listener on a free port of 127.0.0.1 and returns it with its base URL (ending in '/').
    /// HttpListener cannot take port 0, so random ports are tried until one is free: another suite or
    /// server on the machine may hold the first one tried.
    /// </summary>
    public static (HttpListener Listener, string Url) StartOnFreePort()
    {
        for (int attempt = 1; ; attempt++)
        {
            var url = $"http://127.0.0.1:{Random.Shared.Next(20000, 50000)}/";
            var listener = new HttpListener();
            listener.Prefixes.Add(url);
            try
            {
                listener.Start();
                return (listener, url);
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                listener.Close();
            }
        }
    }
}
