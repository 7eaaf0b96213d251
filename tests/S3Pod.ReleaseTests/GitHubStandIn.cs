using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace S3Pod.ReleaseTests;

/// <summary>
/// A small local stand-in for the parts of GitHub's REST API, upload endpoint and download URLs the
/// release tool uses (GitHub Enterprise layout, /api/v3/, as Octokit builds it for another host). It
/// keeps releases and assets in memory and records what was asked, so tests can check behaviour.
/// </summary>
internal sealed class GitHubStandIn : IDisposable
{
    private sealed record Asset(long Id, string Name, string ContentType, byte[] Bytes);

    private sealed class Release(long id, string tag)
    {
        public long Id { get; } = id;
        public string Tag { get; } = tag;
        public List<Asset> Assets { get; } = new();
    }

    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly object _gate = new();
    private readonly List<Release> _releases = new();
    private long _nextId = 100;

    public string BaseUrl { get; }
    public List<string> Requests { get; } = new();
    public int ReleasesCreated { get; private set; }
    public int Uploads { get; private set; }
    public int Deletes { get; private set; }

    /// <summary>Changes what a download serves (a corrupted CDN, a swapped asset): name, stored bytes -> served bytes.</summary>
    public Func<string, byte[], byte[]> Serve { get; set; } = (_, bytes) => bytes;

    public GitHubStandIn()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(BaseUrl);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The assets of a tag's release: name -> (content type, bytes).</summary>
    public Dictionary<string, (string ContentType, byte[] Bytes)> AssetsOf(string tag)
    {
        lock (_gate) return _releases.Single(r => r.Tag == tag).Assets.ToDictionary(a => a.Name, a => (a.ContentType, a.Bytes));
    }

    public int AssetCount(string tag)
    {
        lock (_gate) return _releases.Single(r => r.Tag == tag).Assets.Count;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; } // stopped
            try { await HandleAsync(ctx); }
            catch (Exception e) { await Reply(ctx, 500, new JsonObject { ["message"] = e.Message }); }
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        string path = req.Url!.AbsolutePath;
        lock (_gate) Requests.Add($"{req.HttpMethod} {path}{req.Url.Query}");
        var seg = path.Trim('/').Split('/');
        if (seg[0] == "download" && seg.Length == 3 && req.HttpMethod == "GET")
        {
            Asset? asset;
            lock (_gate) asset = _releases.FirstOrDefault(r => r.Tag == seg[1])?.Assets.FirstOrDefault(a => a.Name == seg[2]);
            if (asset is null) { await Reply(ctx, 404, new JsonObject { ["message"] = "Not Found" }); return; }
            byte[] body = Serve(asset.Name, asset.Bytes);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = asset.ContentType;
            await ctx.Response.OutputStream.WriteAsync(body);
            ctx.Response.Close();
            return;
        }
        if (string.IsNullOrEmpty(req.Headers["Authorization"])) { await Reply(ctx, 401, new JsonObject { ["message"] = "Requires authentication" }); return; }

        // /api/v3/repos/{o}/{r}/releases...   and   /uploads/repos/{o}/{r}/releases/{id}/assets
        if (seg is ["api", "v3", "repos", _, _, "releases", "tags", var tag] && req.HttpMethod == "GET")
        {
            Release? r;
            lock (_gate) r = _releases.FirstOrDefault(x => x.Tag == tag);
            if (r is null) await Reply(ctx, 404, new JsonObject { ["message"] = "Not Found" });
            else await Reply(ctx, 200, ReleaseJson(r));
        }
        else if (seg is ["api", "v3", "repos", _, _, "releases"] && req.HttpMethod == "POST")
        {
            var body = JsonNode.Parse(await new StreamReader(req.InputStream).ReadToEndAsync())!;
            Release r;
            lock (_gate)
            {
                r = new Release(_nextId++, body["tag_name"]!.GetValue<string>());
                _releases.Add(r);
                ReleasesCreated++;
            }
            await Reply(ctx, 201, ReleaseJson(r));
        }
        else if (seg is ["api", "v3", "repos", _, _, "releases", var rid, "assets"] && req.HttpMethod == "GET")
        {
            var list = new JsonArray();
            lock (_gate)
            {
                var r = _releases.Single(x => x.Id == long.Parse(rid));
                foreach (var a in r.Assets) list.Add(AssetJson(r, a));
            }
            await Reply(ctx, 200, list);
        }
        else if (seg is ["api", "v3", "repos", _, _, "releases", "assets", var aid] && req.HttpMethod == "DELETE")
        {
            lock (_gate)
            {
                foreach (var r in _releases) r.Assets.RemoveAll(a => a.Id == long.Parse(aid));
                Deletes++;
            }
            ctx.Response.StatusCode = 204;
            ctx.Response.Close();
        }
        else if (seg is ["uploads", "repos", _, _, "releases", var uid, "assets"] && req.HttpMethod == "POST")
        {
            string name = req.QueryString["name"] ?? throw new InvalidOperationException("upload without ?name=");
            var ms = new MemoryStream();
            await req.InputStream.CopyToAsync(ms);
            JsonObject json;
            lock (_gate)
            {
                var r = _releases.Single(x => x.Id == long.Parse(uid));
                if (r.Assets.Any(a => a.Name == name))
                {
                    // GitHub refuses a second asset of one name.
                    json = new JsonObject { ["message"] = "Validation Failed", ["errors"] = new JsonArray(new JsonObject { ["code"] = "already_exists" }) };
                    r = null!;
                }
                else
                {
                    var asset = new Asset(_nextId++, name, req.ContentType ?? "", ms.ToArray());
                    r.Assets.Add(asset);
                    Uploads++;
                    json = AssetJson(r, asset);
                }
            }
            await Reply(ctx, json.ContainsKey("errors") ? 422 : 201, json);
        }
        else
        {
            await Reply(ctx, 404, new JsonObject { ["message"] = $"stand-in has no route for {req.HttpMethod} {path}" });
        }
    }

    private JsonObject ReleaseJson(Release r) => new()
    {
        ["id"] = r.Id,
        ["tag_name"] = r.Tag,
        ["name"] = r.Tag,
        ["url"] = $"{BaseUrl}api/v3/repos/o/r/releases/{r.Id}",
        ["html_url"] = $"{BaseUrl}o/r/releases/tag/{r.Tag}",
        ["assets_url"] = $"{BaseUrl}api/v3/repos/o/r/releases/{r.Id}/assets",
        ["upload_url"] = $"{BaseUrl}uploads/repos/o/r/releases/{r.Id}/assets{{?name,label}}",
        ["draft"] = false,
        ["prerelease"] = false,
        ["created_at"] = "2026-01-01T00:00:00Z",
        ["assets"] = new JsonArray(r.Assets.Select(a => (JsonNode)AssetJson(r, a)).ToArray()),
    };

    private JsonObject AssetJson(Release r, Asset a) => new()
    {
        ["id"] = a.Id,
        ["name"] = a.Name,
        ["label"] = null,
        ["content_type"] = a.ContentType,
        ["state"] = "uploaded",
        ["size"] = a.Bytes.Length,
        ["download_count"] = 0,
        ["url"] = $"{BaseUrl}api/v3/repos/o/r/releases/assets/{a.Id}",
        ["browser_download_url"] = $"{BaseUrl}download/{r.Tag}/{a.Name}",
        ["created_at"] = "2026-01-01T00:00:00Z",
        ["updated_at"] = "2026-01-01T00:00:00Z",
    };

    private static async Task Reply(HttpListenerContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString()));
        ctx.Response.Close();
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
