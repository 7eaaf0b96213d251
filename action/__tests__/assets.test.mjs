// The assets sub-action (assets/action.yml -> dist/assets.js), run as the runner runs it: against
// the real s3pod binary and Ceph RGW through a counting proxy (so "a warm runner downloads nothing"
// is measured in requests), and against the stub binary that speaks the same asset sync / check
// contract, for the wrapper's own logic.
import { describe, test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createJob, runStep, writeFiles, tempDir } from './harness.mjs';
import { realBackend, stubBackend } from './backends.mjs';

const PR_EVENT = (number, headRepo, fork) => ({
  number,
  pull_request: { number, head: { ref: 'feature', repo: { full_name: headRepo, fork } }, base: { ref: 'main', repo: { full_name: 'octo/app' } } },
});
const pushJob = () => createJob({ eventName: 'push', ref: 'refs/heads/main' });
const forkJob = () => createJob({ eventName: 'pull_request', ref: 'refs/pull/9/merge', baseRef: 'main', event: PR_EVENT(9, 'evil/app', true) });
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * A forwarding proxy in front of the S3 server that records every request. It passes the Host
 * header through unchanged, so SigV4 signatures (made for the proxy's address) still verify.
 */
async function countingProxy(target) {
  const upstream = new URL(target);
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url });
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close: () => new Promise((r) => server.close(r)) };
}

/** Whether this binary has `asset sync` (the command the action runs). */
function syncSupport(binary) {
  const r = spawnSync(binary, ['asset', 'sync', '--help'], { encoding: 'utf8' });
  return r.status === 0 && /sync/.test(r.stdout) ? false : `${binary} has no \`asset sync\` (exit ${r.status}): build the binary with the asset ledger`;
}

const real = realBackend();
const realSkip = real.skip || syncSupport(process.env.S3POD_TEST_BINARY);

describe('assets action (real s3pod + S3, requests counted)', () => {
  const test = (name, fn) => nodeTest(name, { skip: realSkip }, fn);
  let proxy;
  let base;
  let prefix;
  before(async () => {
    if (realSkip) return;
    prefix = await real.newPrefix();
    proxy = await countingProxy(real.inputs(prefix).endpoint);
    base = { ...real.inputs(prefix), endpoint: proxy.url };
  });
  after(() => proxy?.close());

  /**
   * `s3pod asset add`: pushes FILE as an asset version and pins it in the manifest. Straight to the
   * server: spawnSync blocks this process, and with it the proxy.
   */
  function addAsset(workspace, key, file) {
    const r = spawnSync(base.binary, ['asset', 'add', key, file, '--manifest', path.join(workspace, 's3pod.assets.json'),
      '--endpoint', real.inputs(prefix).endpoint, '--region', base.region, '--bucket', base.bucket, '--prefix', prefix, '--json'], {
      encoding: 'utf8', cwd: workspace, timeout: 60000, env: { ...process.env, HOME: tempDir('s3pod-home-'), S3POD_S3_KEY_ID: base['access-key-id'], S3POD_S3_SECRET: base['secret-access-key'] },
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }
  const assetRequests = (list) => list.filter((q) => /\/(artifacts|blobs)\//.test(q.url));

  test('first runner downloads every asset and caches the directory; a warm runner downloads nothing', async () => {
    const repo = tempDir('s3pod-repo-');
    writeFiles(repo, { 'clf.bin': 'model weights v1\n', 'zip.csv': 'zip,city\n75001,Paris\n' });
    const clf = addAsset(repo, '/models/clf.bin', path.join(repo, 'clf.bin'));
    addAsset(repo, '/data/zip.csv', path.join(repo, 'zip.csv'));
    const manifest = fs.readFileSync(path.join(repo, 's3pod.assets.json'));

    const cold = pushJob();
    fs.writeFileSync(path.join(cold.workspace, 's3pod.assets.json'), manifest);
    proxy.requests.length = 0;
    const first = await runStep(cold, 'assets', { ...base, check: 'true' });
    assert.equal(first.code, 0, first.log);
    assert.deepEqual(first.errors, [], first.log);
    const dir = first.outputs['assets-dir'];
    assert.equal(dir, path.join(cold.temp, 's3pod-assets'));
    assert.equal(first.exported.S3POD_ASSETS_DIR, dir);
    assert.match(first.log, /Synced 2 assets into .*: 2 downloaded, 0 already there/);
    assert.match(first.summary, /\| Downloaded \| 2 \|/);
    assert.match(first.summary, new RegExp(`s3pod-assets-${sha256(manifest)}`));
    assert.match(first.log, /Assets directory saved with key s3pod-assets-/);
    assert.equal(fs.readFileSync(path.join(dir, 'models/clf.bin', clf.version), 'utf8'), 'model weights v1\n');
    const coldAssetRequests = assetRequests(proxy.requests).length;
    assert.ok(coldAssetRequests >= 2, `the cold run fetched the assets: ${JSON.stringify(proxy.requests)}`);

    // Another runner: fresh temp directory and home, the same manifest.
    const warm = pushJob();
    fs.writeFileSync(path.join(warm.workspace, 's3pod.assets.json'), manifest);
    proxy.requests.length = 0;
    const second = await runStep(warm, 'assets', { ...base });
    assert.equal(second.code, 0, second.log);
    assert.match(second.log, /Assets directory restored from s3pod-assets-/);
    assert.match(second.log, /: 0 downloaded, 2 already there/);
    assert.match(second.summary, /\| Cache \| exact hit/);
    assert.deepEqual(assetRequests(proxy.requests), [], 'no request for any asset');
    assert.doesNotMatch(second.log, /Assets directory saved/, 'an exact hit saves nothing');
    const writes = proxy.requests.filter((q) => q.method === 'PUT' || q.method === 'POST');
    assert.ok(writes.every((q) => /caches-used/.test(q.url)), `only last-use bookkeeping is written: ${JSON.stringify(writes)}`);
    assert.equal(fs.readFileSync(path.join(second.outputs['assets-dir'], 'models/clf.bin', clf.version), 'utf8'), 'model weights v1\n');
    console.log(`# assets: cold run ${coldAssetRequests} asset requests; warm run ${proxy.requests.length} requests in all, 0 for assets`);
  });

  test('a manifest with a development override fails check, naming the entry', async () => {
    const job = pushJob();
    writeFiles(job.workspace, {
      'local/clf.bin': 'my experiment',
      's3pod.assets.json': `${JSON.stringify({ assets: { '/models/clf.bin': './local/clf.bin' }, schema: 's3pod.assets/v1' }, null, 4)}\n`,
    });
    const r = await runStep(job, 'assets', { ...base, check: 'true' });
    assert.equal(r.code, 1, r.log);
    assert.equal(r.errors.length, 1, r.log);
    assert.match(r.errors[0], /s3pod\.assets\.json is not ready for CI: \/models\/clf\.bin: override/);
    assert.equal(r.exported.S3POD_ASSETS_DIR, undefined);
  });
});

describe('assets action (stub binary: the asset sync / check contract)', () => {
  const stub = stubBackend();
  let base;
  before(async () => {
    base = stub.inputs(await stub.newPrefix());
  });
  const run = (job, inputs = {}, opts = {}) => runStep(job, 'assets', { ...base, ...inputs }, { ...opts, env: { ...stub.env(), ...(opts.env || {}) } });
  const downloads = () => {
    const file = path.join(stub.env().S3POD_STORE, 'asset-downloads.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
  };
  const MANIFEST = `${JSON.stringify({ '/foo/bar.csv': '1.2.5', '/foo/bar.json': '0.1.6' })}\n`;

  nodeTest('syncs, exports S3POD_ASSETS_DIR, saves the directory; the next runner restores it and downloads nothing', async () => {
    const before = downloads().length;
    const cold = pushJob();
    writeFiles(cold.workspace, { 's3pod.assets.json': MANIFEST });
    const first = await run(cold);
    assert.equal(first.code, 0, first.log);
    const dir = first.outputs['assets-dir'];
    assert.equal(first.exported.S3POD_ASSETS_DIR, dir);
    assert.equal(fs.readFileSync(path.join(dir, 'foo/bar.csv/1.2.5'), 'utf8'), 'foo/bar.csv@1.2.5\n');
    assert.equal(downloads().length - before, 2);
    const key = `s3pod-assets-${sha256(MANIFEST)}`;
    assert.match(first.log, new RegExp(`Assets directory saved with key ${key}`));
    const sync = stub.invocations().find((i) => i.args[0] === 'asset' && i.args[1] === 'sync');
    assert.ok(sync.args.includes('--assets-dir') && sync.args.includes(dir), JSON.stringify(sync.args));
    assert.ok(sync.args.includes('--prune'), `the job's own directory is pruned: ${JSON.stringify(sync.args)}`);
    assert.ok(sync.args.includes(path.join(cold.workspace, 's3pod.assets.json')));

    const warm = pushJob();
    writeFiles(warm.workspace, { 's3pod.assets.json': MANIFEST });
    const second = await run(warm);
    assert.equal(second.code, 0, second.log);
    assert.match(second.log, /: 0 downloaded, 2 already there/);
    assert.equal(downloads().length - before, 2, 'the warm runner downloaded nothing');
    assert.match(second.summary, /exact hit/);
    assert.doesNotMatch(second.log, /saved with key/);

    // A changed manifest: the old directory comes back through the restore key; only the new pin is fetched.
    const changed = pushJob();
    writeFiles(changed.workspace, { 's3pod.assets.json': `${JSON.stringify({ '/foo/bar.csv': '1.2.5', '/foo/bar.json': '0.2.0' })}\n` });
    const third = await run(changed);
    assert.equal(third.code, 0, third.log);
    assert.match(third.summary, /restore-key hit/);
    assert.match(third.log, /: 1 downloaded, 1 already there/);
    assert.deepEqual(downloads().slice(before + 2), ['foo/bar.json:0.2.0']);
  });

  nodeTest('check: true fails on an override and names it; without check the override is synced as local', async () => {
    const job = pushJob();
    writeFiles(job.workspace, { 'assets.json': `${JSON.stringify({ assets: { '/foo/bar.csv': '1.2.5', 'dev/thing': './local/override.bin' } })}\n` });
    const checked = await run(job, { manifest: 'assets.json', check: 'true' });
    assert.equal(checked.code, 1, checked.log);
    assert.equal(checked.errors.length, 1, checked.log);
    assert.match(checked.errors[0], /assets\.json is not ready for CI: dev\/thing: override \(overridden by \.\/local\/override\.bin\)/);
    assert.ok(!stub.invocations().some((i) => i.args[1] === 'sync' && i.args.includes(path.join(job.workspace, 'assets.json'))), 'nothing synced after a failed check');
    const unchecked = await run(job, { manifest: 'assets.json' });
    assert.equal(unchecked.code, 0, unchecked.log);
  });

  nodeTest('a fork PR syncs the assets but does not save the directory', async () => {
    const job = forkJob();
    writeFiles(job.workspace, { 's3pod.assets.json': `${JSON.stringify({ '/fork/only.bin': '9.9.9' })}\n` });
    const r = await run(job);
    assert.equal(r.code, 0, r.log);
    assert.match(r.log, /Not saving the assets directory: pull requests from forks are read-only/);
    assert.ok(!stub.invocations().some((i) => i.args[0] === 'save' && i.cwd === path.dirname(r.outputs['assets-dir'])), 'no save');
  });

  nodeTest('a failed entry fails the step with one line naming it', async () => {
    const job = pushJob();
    writeFiles(job.workspace, { 's3pod.assets.json': `${JSON.stringify({ '/gone.bin': '1.0.0', '/ok.bin': '1.0.0' })}\n` });
    const r = await run(job, {}, { env: { S3POD_STUB_ASSET_FAIL: '/gone.bin' } });
    assert.equal(r.code, 1, r.log);
    assert.equal(r.errors.length, 1, r.log);
    assert.match(r.errors[0], /Failed to sync the assets of s3pod\.assets\.json: \/gone\.bin: gone\.bin:1\.0\.0 does not exist/);
  });

  for (const [inputs, expected] of [
    [{ manifest: 'nope.json' }, /Input "manifest": cannot read nope\.json \(no such file\)/],
    [{ check: 'yes' }, /Input "check" must be true or false, not "yes"/],
    [{ 'read-only': 'never' }, /Input "read-only" must be one of auto, true, false, not "never"/],
    [{ 'access-key-id': '' }, /Input "access-key-id" is required when "secret-access-key" is set/],
  ]) {
    nodeTest(`bad input ${JSON.stringify(inputs)} fails with one error naming it`, async () => {
      const job = pushJob();
      writeFiles(job.workspace, { 's3pod.assets.json': MANIFEST });
      const r = await run(job, inputs);
      assert.equal(r.code, 1, r.log);
      assert.equal(r.errors.length, 1, r.log);
      assert.match(r.errors[0], expected);
    });
  }
});
