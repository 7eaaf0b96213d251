// The action's release download behind a proxy: HTTPS_PROXY / HTTP_PROXY are honoured and NO_PROXY
// is respected. The release host is named releases.s3pod.test: a name that never resolves, so a
// request that reaches it at all went through the proxy (the toolkit's client, like curl, never
// proxies loopback addresses, so 127.0.0.1 could not show it). The local proxy answers CONNECT by
// tunnelling to a release server on 127.0.0.1 and counts each request it is asked to carry.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { proxyAwareDownload } from '../src/download.js';
import { createJob, runStep, repoRoot, stubBinary, tempDir } from './harness.mjs';

const require = createRequire(import.meta.url);
const core = require('../src/core/index.js');
const asset = core.assetName();
const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const RELEASE_HOST = 'releases.s3pod.test';

async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address().port;
}

/** A release server on 127.0.0.1 and a proxy in front of it that counts what it carries. */
async function proxiedRelease(files) {
  const origin = http.createServer((req, res) => {
    const body = files[req.url];
    if (body === undefined) return res.writeHead(404).end('Not Found');
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  const originPort = await listen(origin);
  const carried = [];
  const proxy = http.createServer((req, res) => {
    // A plain proxied GET (absolute URI): forward to the origin whatever host it names.
    carried.push(`GET ${req.url}`);
    const target = new URL(req.url);
    const up = http.request({ host: '127.0.0.1', port: originPort, path: target.pathname, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  proxy.on('connect', (req, socket, head) => {
    carried.push(`CONNECT ${req.url}`);
    const up = net.connect(originPort, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  const proxyPort = await listen(proxy);
  return {
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    carried,
    close: async () => {
      proxy.closeAllConnections?.();
      origin.closeAllConnections?.();
      await Promise.all([new Promise((r) => proxy.close(r)), new Promise((r) => origin.close(r))]);
    },
  };
}

/** Runs fn with process.env changed (the toolkit's client reads the proxy variables from there). */
async function withEnv(vars, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
const cleared = Object.fromEntries(PROXY_VARS.map((k) => [k, undefined]));

describe('locateBinary with the action\'s downloader', () => {
  const content = fs.readFileSync(stubBinary);
  const sums = { version: '1.0.0', repository: 'org/s3pod', assets: { [asset]: sha(content) } };
  const assetPath = `/org/s3pod/releases/download/v1.0.0/${asset}`;
  let release;
  before(async () => {
    release = await proxiedRelease({ [assetPath]: content });
  });
  after(() => release.close());
  const opts = () => ({ sums, env: { PATH: '' }, serverUrl: `http://${RELEASE_HOST}`, toolCacheDir: tempDir('s3pod-px-'), tempDir: tempDir('s3pod-px-'), download: proxyAwareDownload });

  test('HTTP_PROXY: the download goes through the proxy, once, and is verified', async () => {
    const before = release.carried.length;
    const found = await withEnv({ ...cleared, HTTP_PROXY: release.proxyUrl }, () => core.locateBinary(opts()));
    assert.equal(found.source, 'download');
    assert.equal(sha(fs.readFileSync(found.path)), sums.assets[asset]);
    assert.deepEqual(release.carried.slice(before), [`CONNECT ${RELEASE_HOST}:80`]);
  });

  test('NO_PROXY naming the host: the proxy is not used (and the unresolvable host fails, one line)', async () => {
    const before = release.carried.length;
    await assert.rejects(
      withEnv({ ...cleared, HTTP_PROXY: release.proxyUrl, NO_PROXY: `localhost,.s3pod.test` }, () => core.locateBinary(opts())),
      (err) => err.name === 'BinaryError' && /^Could not download http:\/\/releases\.s3pod\.test\/.+: /.test(err.message) && !err.message.includes('\n'),
    );
    assert.equal(release.carried.length, before);
  });

  test('without the action\'s downloader (Node\'s fetch) the proxy variables are ignored: why the action passes its own', async () => {
    const before = release.carried.length;
    const o = opts();
    delete o.download;
    await assert.rejects(withEnv({ ...cleared, HTTP_PROXY: release.proxyUrl }, () => core.locateBinary(o)), /Could not download/);
    assert.equal(release.carried.length, before);
  });
});

// The bundled action (dist/), as a runner runs it: the job's environment carries HTTPS_PROXY.
describe('the bundled action behind a proxy', () => {
  const built = path.join(repoRoot, 'dist', asset);
  const committed = core.RELEASE_SUMS.assets[asset];
  const skip = !fs.existsSync(built) ? `${built} is missing (run ./publish-aot.sh)`
    : !committed ? `no SHA-256 for ${asset} in action/src/core/release-sums.json (run npm run update-sums)` : false;

  test('the release download is carried by the proxy (HTTPS_PROXY and HTTP_PROXY set as a runner sets them)', { skip }, async () => {
    const version = core.RELEASE_SUMS.version;
    const repo = core.RELEASE_SUMS.repository;
    const bytes = fs.readFileSync(built);
    const release = await proxiedRelease({ [`/${repo}/releases/download/v${version}/${asset}`]: bytes });
    try {
      const job = createJob();
      const env = { GITHUB_SERVER_URL: `http://${RELEASE_HOST}`, HTTPS_PROXY: release.proxyUrl, HTTP_PROXY: release.proxyUrl };
      const main = await runStep(job, 'main', { key: 'px', path: 'deps', endpoint: 'http://127.0.0.1:9', 'lookup-only': 'true' }, { env, path: '/usr/bin:/bin' });
      assert.deepEqual(release.carried, [`CONNECT ${RELEASE_HOST}:80`], main.log);
      // The bytes arrived: either they are the committed release (installed) or a local build of
      // other sources (refused by its checksum); both prove the download went through the proxy.
      if (sha(bytes) === committed) assert.match(main.log, /Installed s3pod/);
      else assert.match(main.log, /Checksum mismatch for s3pod-/);
    } finally {
      await release.close();
    }
  });
});
