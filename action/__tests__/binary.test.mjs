// Getting the binary: the binary input, s3pod on PATH with the right version, the tool cache, and
// release downloads from a local HTTP server on 127.0.0.1 verified against committed SHA-256 sums.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createJob, runStep, repoRoot, stubBinary, tempDir } from './harness.mjs';

const require = createRequire(import.meta.url);
const core = require('../src/core/index.js');

/** Serves release assets at /<repo>/releases/download/v<version>/<asset>; records requests. */
async function releaseServer(assets) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    const body = assets[req.url];
    if (body === undefined) {
      res.writeHead(404).end('Not Found');
      return;
    }
    if (typeof body === 'object' && body.redirect) {
      res.writeHead(302, { location: body.redirect }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const tmp = () => tempDir('s3pod-bin-');
const asset = core.assetName();

describe('locateBinary (core)', () => {
  const content = fs.readFileSync(stubBinary);
  const sums = { version: '1.0.0', repository: 'org/s3pod', assets: { [asset]: sha(content) } };
  let server;
  before(async () => {
    server = await releaseServer({
      [`/org/s3pod/releases/download/v1.0.0/${asset}`]: { redirect: `/assets/${asset}` },
      [`/assets/${asset}`]: content,
      [`/evil/s3pod/releases/download/v1.0.0/${asset}`]: Buffer.concat([content, Buffer.from('\n// tampered\n')]),
    });
  });
  after(() => server.close());

  const opts = (over = {}) => ({ sums, env: { PATH: '' }, serverUrl: server.url, toolCacheDir: tmp(), tempDir: tmp(), ...over });

  test('a matching checksum installs into the tool cache, and the next call uses the cache', async () => {
    const o = opts();
    const first = await core.locateBinary(o);
    assert.equal(first.source, 'download');
    assert.equal(first.path, path.join(o.toolCacheDir, 's3pod', '1.0.0', asset.replace(/^s3pod-|\.exe$/g, ''), 's3pod'));
    assert.equal(sha(fs.readFileSync(first.path)), sums.assets[asset]);
    assert.ok(fs.statSync(first.path).mode & 0o100, 'executable');
    assert.deepEqual(fs.readdirSync(o.tempDir), [], 'temporary download removed');
    const before = server.requests.length;
    const second = await core.locateBinary({ ...o, serverUrl: 'http://127.0.0.1:9' });
    assert.equal(second.source, 'tool-cache');
    assert.equal(server.requests.length, before, 'no second download');
  });

  test('a tampered tool-cache copy is downloaded again', async () => {
    const o = opts();
    const first = await core.locateBinary(o);
    fs.appendFileSync(first.path, '// changed\n');
    const again = await core.locateBinary(o);
    assert.equal(again.source, 'download');
    assert.equal(sha(fs.readFileSync(again.path)), sums.assets[asset]);
  });

  test('a checksum mismatch fails with a clear error and installs nothing', async () => {
    const o = opts({ repository: 'evil/s3pod' });
    await assert.rejects(core.locateBinary(o), (err) => err instanceof core.BinaryError
      && /Checksum mismatch for s3pod-.+ expected SHA-256 [0-9a-f]{64}, got [0-9a-f]{64}; refusing to run it/.test(err.message));
    assert.equal(fs.existsSync(path.join(o.toolCacheDir, 's3pod')), false);
    assert.deepEqual(fs.readdirSync(o.tempDir), []);
  });

  test('HTTP errors and unreachable servers are one-line errors', async () => {
    await assert.rejects(core.locateBinary(opts({ repository: 'nobody/none' })), /Could not download http:\/\/127\.0\.0\.1:\d+\/nobody\/none\/.+: HTTP 404/);
    await assert.rejects(core.locateBinary(opts({ serverUrl: 'http://127.0.0.1:9' })), /Could not download .+: /);
  });

  test('a version without committed sums is refused', async () => {
    await assert.rejects(core.locateBinary(opts({ version: '9.9.9' })), /Cannot verify s3pod 9\.9\.9: the SHA-256 sums committed here are for s3pod 1\.0\.0/);
  });

  test('a platform without a binary is one error naming the OS and arch and listing what exists', async () => {
    const two = { ...sums, assets: { 's3pod-linux-x64': 'a'.repeat(64), 's3pod-osx-arm64': 'b'.repeat(64) } };
    const cases = [
      [{ os: 'Linux', arch: 'ARM', names: 'Agent.OS/Agent.OSArchitecture' }, 'No s3pod 1.0.0 binary for Linux ARM (Agent.OS/Agent.OSArchitecture); binaries exist for: linux-x64, osx-arm64. Put s3pod on PATH or set the binary input'],
      [{ os: 'Windows', arch: 'X64', names: 'RUNNER_OS/RUNNER_ARCH' }, 'No s3pod 1.0.0 binary for Windows X64 (RUNNER_OS/RUNNER_ARCH); binaries exist for: linux-x64, osx-arm64. Put s3pod on PATH or set the binary input'],
      [{ os: 'FreeBSD', arch: 'X64', names: 'RUNNER_OS/RUNNER_ARCH' }, 'No s3pod 1.0.0 binary for FreeBSD X64 (RUNNER_OS/RUNNER_ARCH); binaries exist for: linux-x64, osx-arm64. Put s3pod on PATH or set the binary input'],
    ];
    for (const [runner, message] of cases) {
      await assert.rejects(core.locateBinary(opts({ sums: two, runner })), (err) => err instanceof core.BinaryError && err.message === message);
    }
    const none = { ...sums, assets: {} };
    await assert.rejects(core.locateBinary(opts({ sums: none, runner: { os: 'Linux', arch: 'X64', names: 'RUNNER_OS/RUNNER_ARCH' }, binaryInput: 'binary' })),
      /No s3pod 1\.0\.0 binary for Linux X64 \(RUNNER_OS\/RUNNER_ARCH\); binaries exist for: none/);
  });

  test('the runner\'s OS and arch pick the asset (CI spellings)', async () => {
    const assetFor = { 's3pod-linux-arm64': content };
    const armSums = { ...sums, assets: { 's3pod-linux-arm64': sha(content) } };
    const arm = await releaseServer({ '/org/s3pod/releases/download/v1.0.0/s3pod-linux-arm64': assetFor['s3pod-linux-arm64'] });
    try {
      const o = opts({ sums: armSums, serverUrl: arm.url, runner: { os: 'Linux', arch: 'ARM64', names: 'Agent.OS/Agent.OSArchitecture' } });
      const found = await core.locateBinary(o);
      assert.equal(found.path, path.join(o.toolCacheDir, 's3pod', '1.0.0', 'linux-arm64', 's3pod'));
      assert.deepEqual(arm.requests, ['/org/s3pod/releases/download/v1.0.0/s3pod-linux-arm64']);
    } finally {
      await arm.close();
    }
  });

  test('s3pod on PATH is used only when its --version matches', async () => {
    const dir = tmp();
    fs.copyFileSync(stubBinary, path.join(dir, 's3pod'));
    fs.chmodSync(path.join(dir, 's3pod'), 0o755);
    const match = await core.locateBinary(opts({ env: { PATH: dir } }));
    assert.deepEqual([match.source, match.path], ['path', path.join(dir, 's3pod')]);
    process.env.S3POD_STUB_VERSION = '0.9.0';
    try {
      const other = await core.locateBinary(opts({ env: { PATH: dir } }));
      assert.equal(other.source, 'download');
    } finally {
      delete process.env.S3POD_STUB_VERSION;
    }
  });

  test('the binary input wins and must exist', async () => {
    assert.equal((await core.locateBinary(opts({ binary: stubBinary }))).source, 'input');
    await assert.rejects(core.locateBinary(opts({ binary: '/no/such/s3pod' })), /Input "binary": \/no\/such\/s3pod does not exist/);
  });

  test('asset names and SHA256SUMS parsing', () => {
    assert.equal(core.assetName('linux', 'x64'), 's3pod-linux-x64');
    assert.equal(core.assetName('darwin', 'arm64'), 's3pod-osx-arm64');
    assert.equal(core.assetName('win32', 'x64'), 's3pod-win-x64.exe');
    assert.equal(core.assetName('aix', 'ppc64'), null);
    assert.equal(core.assetName('Linux', 'ARM'), null, '32-bit ARM has no build');
    assert.equal(core.assetName('Linux', 'X86'), null);
    assert.equal(core.assetName('Linux', 'ARM64'), 's3pod-linux-arm64', 'RUNNER_OS / Agent.OS spellings');
    assert.equal(core.assetName('macOS', 'X64'), 's3pod-osx-x64');
    assert.equal(core.assetName('Darwin', 'ARM64'), 's3pod-osx-arm64');
    assert.equal(core.assetName('Windows_NT', 'ARM64'), 's3pod-win-arm64.exe');
    assert.equal(core.assetName('Windows', 'X64'), 's3pod-win-x64.exe');
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    assert.deepEqual(core.parseSha256Sums(`${a}  s3pod-linux-x64\n${b} *dist/s3pod-win-x64.exe\nnot a line\n`), {
      's3pod-linux-x64': a, 's3pod-win-x64.exe': b.toLowerCase(),
    });
  });
});

describe('Windows binary selection (.exe)', () => {
  const content = fs.readFileSync(stubBinary);
  const sums = { version: '1.0.0', repository: 'org/s3pod', assets: { 's3pod-win-x64.exe': sha(content), 's3pod-linux-x64': sha(Buffer.from('other')) } };
  let server;
  before(async () => {
    server = await releaseServer({ '/org/s3pod/releases/download/v1.0.0/s3pod-win-x64.exe': content });
  });
  after(() => server.close());

  test('a Windows runner downloads s3pod-win-x64.exe and installs it as s3pod.exe (Windows runs only .exe files by name)', async () => {
    const o = { sums, env: { PATH: '' }, serverUrl: server.url, toolCacheDir: tmp(), tempDir: tmp(), runner: { os: 'Windows', arch: 'X64', names: 'RUNNER_OS/RUNNER_ARCH' } };
    const got = await core.locateBinary(o);
    assert.equal(got.source, 'download');
    assert.equal(got.path, path.join(o.toolCacheDir, 's3pod', '1.0.0', 'win-x64', 's3pod.exe'));
    assert.deepEqual(server.requests, ['/org/s3pod/releases/download/v1.0.0/s3pod-win-x64.exe']);
    assert.equal((await core.locateBinary({ ...o, serverUrl: 'http://127.0.0.1:9' })).source, 'tool-cache');
  });

  test('on Windows, s3pod.exe on PATH is found through PATHEXT; a file named plain s3pod is not', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 's3pod'), 'not a Windows program');
    assert.deepEqual(require('../src/core/binary.js').findOnPath({ PATH: dir, PATHEXT: '.COM;.EXE;.BAT' }, 'win32'), []);
    // Copied from a Windows machine: no execute bit, which Windows does not have.
    fs.writeFileSync(path.join(dir, 's3pod.exe'), 'MZ');
    fs.chmodSync(path.join(dir, 's3pod.exe'), 0o644);
    assert.deepEqual(require('../src/core/binary.js').findOnPath({ PATH: dir, PATHEXT: '.COM;.EXE;.BAT' }, 'win32'), [path.join(dir, 's3pod.exe')]);
  });
});

test('a runner with no s3pod build: one ::error:: naming RUNNER_OS/RUNNER_ARCH and listing what exists', async () => {
  const job = createJob();
  const main = await runStep(job, 'main', { key: 'k', path: 'deps', binary: '' }, { env: { RUNNER_OS: 'Linux', RUNNER_ARCH: 'ARM' }, path: path.dirname(process.execPath) });
  assert.equal(main.code, 1, main.log);
  const platforms = Object.keys(core.RELEASE_SUMS.assets).map((a) => a.replace(/^s3pod-|\.exe$/g, '')).sort().join(', ');
  assert.deepEqual(main.errors, [`::error::No s3pod ${core.RELEASE_SUMS.version} binary for Linux ARM (RUNNER_OS/RUNNER_ARCH); binaries exist for: ${platforms}. Put s3pod on PATH or set the binary input`]);
});

// The bundled action downloads the real release asset: needs dist/<asset> and its SHA-256 committed
// in release-sums.json (npm run update-sums after ./publish-aot.sh).
describe('release download through the bundled action', () => {
  const built = path.join(repoRoot, 'dist', asset);
  const committed = core.RELEASE_SUMS.assets[asset];
  let skip = false;
  let mismatchSkip = false;
  if (!fs.existsSync(built)) skip = mismatchSkip = `${built} is missing (run ./publish-aot.sh)`;
  else if (!committed) skip = mismatchSkip = `no SHA-256 for ${asset} in action/src/core/release-sums.json (run npm run update-sums)`;
  // The committed sums pin a release build; a local build of other sources has other bytes.
  else if (sha(fs.readFileSync(built)) !== committed) skip = `${built} is not the build whose SHA-256 is committed (release-sums.json pins a release; run npm run update-sums after ./publish-aot.sh to test a local build)`;
  const version = core.RELEASE_SUMS.version;
  const repo = core.RELEASE_SUMS.repository;
  const base = { key: 'dl-test', path: 'deps', endpoint: 'http://127.0.0.1:9', 'lookup-only': 'true' };
  const noS3pod = '/usr/bin:/bin';

  test('checksum match: installs into RUNNER_TOOL_CACHE, then reuses it offline', { skip }, async () => {
    const server = await releaseServer({ [`/${repo}/releases/download/v${version}/${asset}`]: fs.readFileSync(built) });
    try {
      const job = createJob();
      const env = { GITHUB_SERVER_URL: server.url };
      const first = await runStep(job, 'main', base, { env, path: noS3pod });
      assert.deepEqual(first.errors, [], first.log);
      assert.match(first.log, new RegExp(`Installed s3pod ${version.replace(/\./g, '\\.')} \\(sha256 ${committed}\\)`));
      const installed = path.join(job.toolCache, 's3pod', version, asset.replace(/^s3pod-|\.exe$/g, ''), 's3pod');
      assert.equal(sha(fs.readFileSync(installed)), committed);
      assert.equal(first.state.S3POD_BINARY, installed);
      await server.close();
      const second = await runStep(job, 'main', base, { env, path: noS3pod });
      assert.deepEqual(second.errors, [], second.log);
      assert.match(second.log, /from the tool cache/);
    } finally {
      await server.close().catch(() => {});
    }
  });

  test('checksum mismatch: one ::error:: and nothing installed', { skip: mismatchSkip }, async () => {
    const bad = Buffer.concat([fs.readFileSync(built), Buffer.from('tampered')]);
    const server = await releaseServer({ [`/${repo}/releases/download/v${version}/${asset}`]: bad });
    try {
      const job = createJob();
      const main = await runStep(job, 'main', base, { env: { GITHUB_SERVER_URL: server.url }, path: noS3pod });
      assert.equal(main.code, 1, main.log);
      assert.equal(main.errors.length, 1, main.log);
      assert.match(main.errors[0], /Checksum mismatch for s3pod-/);
      assert.equal(fs.existsSync(path.join(job.toolCache, 's3pod')), false);
      assert.equal(main.outputs['cache-hit'], 'false');
    } finally {
      await server.close();
    }
  });
});
