'use strict';
// S3PodArtifact@1 and S3PodAssets@1 end to end: the bundled entry points (as scripts/package.js
// stages them for the .vsix), run as the agent runs them, against the real s3pod binary and Ceph
// RGW (skipped with the reason without them); assets also against the stub binary that speaks the
// asset sync / check contract. Bad inputs fail before any binary is looked for.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const { buildTask } = require('../scripts/package');
const { createJob, writeTree } = require('./e2e/harness');
const { s3Config, ensureBucket } = require('./e2e/s3');

const stubBinary = path.join(__dirname, '..', '..', 'action', '__tests__', 'fixtures', 'stub-s3pod.cjs');
const binary = process.env.S3POD_TEST_BINARY ? path.resolve(process.env.S3POD_TEST_BINARY) : '';
const s3 = s3Config();
const skip = !binary
  ? 'S3POD_TEST_BINARY is not set (build the binary with ./publish-aot.sh; .ci/run sets it)'
  : !fs.existsSync(binary)
    ? `S3POD_TEST_BINARY=${binary} does not exist`
    : !s3 ? 'S3POD_TEST_S3_ENDPOINT/KEY_ID/SECRET are not set (start tests/servers/ceph-rgw.sh)' : false;
const syncSkip = skip || (spawnSync(binary, ['asset', 'sync', '--help']).status === 0 ? false : `${binary} has no \`asset sync\``);

const runId = `azure-artifact-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
let tmp;
let artifactTask;
let assetsTask;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-azure-artifact-'));
  artifactTask = await buildTask(path.join(tmp, 'stage'), 'S3PodArtifactV1');
  assetsTask = await buildTask(path.join(tmp, 'stage'), 'S3PodAssetsV1');
  if (!skip) await ensureBucket(s3);
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function storage(extra = {}) {
  return {
    endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, prefix: runId,
    accessKeyId: s3.keyId, secretAccessKey: s3.secret, binary, ...extra,
  };
}

let count = 0;
/** One agent job in a fresh working directory: step(entry inputs, env) runs the task's main.js. */
function job(taskDir, files = {}) {
  const dir = path.join(tmp, `work-${++count}`);
  fs.mkdirSync(dir, { recursive: true });
  writeTree(dir, files);
  const agent = createJob({ taskDir, workdir: dir, binaryEnv: { HOME: path.join(dir, '.home') } });
  return {
    dir,
    step: (inputs, env = {}) => agent.runStep('main', { inputs, env }),
    stepAsync: (inputs, env = {}) => agent.runStepAsync('main', { inputs, env }),
    cleanup: agent.cleanup,
  };
}
const ok = (r) => {
  assert.equal(r.result, 'Succeeded', r.log());
  assert.deepEqual(r.errors, [], r.log());
  return r;
};

test('S3PodArtifact@1: push -> versionVar -> pull by alias -> alias move in the summary -> rollback', { skip }, async () => {
  const build = job(artifactTask, { 'out/app.bin': 'one\n' });
  const first = ok(build.step(storage({ command: 'push', name: 'app', path: 'out/app.bin', alias: 'live', versionVar: 'APP_VERSION', digestVar: 'APP_DIGEST' })));
  assert.equal(first.variables.APP_VERSION, '1');
  assert.match(first.variables.APP_DIGEST, /^sha256:[0-9a-f]{64}$/);
  assert.equal(first.variables.version, '1', 'output variable version');
  assert.equal(first.variables.previousVersion, '');
  fs.writeFileSync(path.join(build.dir, 'out/app.bin'), 'two\n');
  const second = ok(build.step(storage({ command: 'push', name: 'app', path: 'out/app.bin', alias: 'live' })));
  assert.equal(second.variables.version, '2');
  assert.equal(second.variables.previousVersion, '1');
  assert.match(second.summary, /### s3pod artifact push/);
  assert.match(second.summary, /\| `live` \| `1` \| 2 \|/, second.summary);

  const deploy = job(artifactTask);
  const pulled = ok(deploy.step(storage({ command: 'pull', name: 'app:live', path: 'bin/app', versionVar: 'DEPLOYED' })));
  assert.equal(pulled.variables.DEPLOYED, '2');
  assert.equal(fs.readFileSync(path.join(deploy.dir, 'bin/app'), 'utf8'), 'two\n');
  assert.equal(pulled.variables.path, path.join(deploy.dir, 'bin/app'));

  const rollback = ok(deploy.step(storage({ command: 'alias', name: 'app', alias: 'live', version: 'previous' })));
  assert.equal(rollback.variables.version, '1');
  assert.equal(rollback.variables.previousVersion, '2');
  assert.match(rollback.summary, /\| `live` \| `2` \| 1 \|/);
  const again = ok(deploy.step(storage({ command: 'pull', name: 'app:live', path: 'bin/app' })));
  assert.equal(again.variables.version, '1');
  assert.equal(fs.readFileSync(path.join(deploy.dir, 'bin/app'), 'utf8'), 'one\n');

  // Canary: 100% to the secondary, then pick it.
  ok(deploy.step(storage({ command: 'alias', name: 'app', alias: 'live', version: '1', secondary: '2', weight: '100' })));
  assert.equal(ok(deploy.step(storage({ command: 'pick', name: 'app:live', versionVar: 'PICKED' }))).variables.PICKED, '2');
  // A stale expect is a conflict and moves nothing.
  const stale = deploy.step(storage({ command: 'alias', name: 'app', alias: 'live', version: '2', expect: '2' }));
  assert.equal(stale.result, 'Failed', stale.log());
  assert.equal(stale.errors.length, 1);
  assert.match(stale.errors[0], /Could not move alias live of app to 2 \(conflict\)/);
  [build, deploy].forEach((j) => j.cleanup());
});

test('S3PodArtifact@1: two jobs pushing at once get distinct versions', { skip }, async () => {
  const a = job(artifactTask, { 'f.bin': 'job a' });
  const b = job(artifactTask, { 'f.bin': 'job b' });
  const inputs = storage({ command: 'push', name: 'race', path: 'f.bin', versionVar: 'V' });
  const [ra, rb] = await Promise.all([a.stepAsync(inputs), b.stepAsync(inputs)]);
  ok(ra);
  ok(rb);
  assert.deepEqual([ra.variables.V, rb.variables.V].sort(), ['1', '2']);
  for (const [r, content] of [[ra, 'job a'], [rb, 'job b']]) {
    const check = job(artifactTask);
    ok(check.step(storage({ command: 'pull', name: `race:${r.variables.V}`, path: 'got' })));
    assert.equal(fs.readFileSync(path.join(check.dir, 'got'), 'utf8'), content);
    check.cleanup();
  }
  [a, b].forEach((j) => j.cleanup());
});

test('S3PodArtifact@1: readOnly auto refuses pushes and alias moves from a fork PR, pulls work', { skip }, async () => {
  const seed = job(artifactTask, { 'g.bin': 'trusted' });
  ok(seed.step(storage({ command: 'push', name: 'guarded', path: 'g.bin', alias: 'live' })));
  const fork = job(artifactTask, { 'g.bin': 'evil' });
  const env = { SYSTEM_PULLREQUEST_ISFORK: 'True', BUILD_SOURCEBRANCH: 'refs/pull/5/merge' };
  const pushed = fork.step(storage({ command: 'push', name: 'guarded', path: 'g.bin', versionVar: 'V' }), env);
  assert.equal(pushed.result, 'Failed', pushed.log());
  assert.deepEqual(pushed.errors, ['Refusing to push guarded: pull requests from forks are read-only (readOnly: auto)']);
  assert.equal(pushed.variables.V, undefined);
  const moved = fork.step(storage({ command: 'alias', name: 'guarded', alias: 'live', version: 'latest' }), env);
  assert.deepEqual(moved.errors, ['Refusing to move aliases of guarded: pull requests from forks are read-only (readOnly: auto)']);
  ok(fork.step(storage({ command: 'pull', name: 'guarded:live', path: 'got' }), env));
  assert.equal(fs.readFileSync(path.join(fork.dir, 'got'), 'utf8'), 'trusted');
  [seed, fork].forEach((j) => j.cleanup());
});

test('S3PodArtifact@1: bad inputs fail with one error naming the camelCase input', () => {
  const j = job(artifactTask);
  const stub = { binary: stubBinary, endpoint: 'https://s3.example.test', bucket: 'b' };
  for (const [inputs, expected] of [
    [{ command: 'upload', name: 'app' }, /^Input "command" must be one of push, pull, publish, alias, pick, not "upload"$/],
    [{ command: 'push', name: 'app' }, /^Input required and not supplied: path/],
    [{ command: 'push', name: 'app', path: 'x', versionVar: 'has space' }, /^Input "versionVar" must be a variable name/],
    [{ command: 'pull', name: 'app', digestVar: '1bad' }, /^Input "digestVar" must be a variable name/],
    [{ command: 'alias', name: 'app', alias: 'live', version: '1', secondary: '2' }, /^Input "weight" is required when "secondary" is set/],
    [{ command: 'push', name: 'app', path: 'x', accessKeyId: 'AKIA' }, /^Input "secretAccessKey" is required when "accessKeyId" is set$/],
    [{ command: 'pull', name: 'app', readOnly: 'sometimes' }, /^Input "readOnly" must be one of auto, true, false/],
    [{ command: 'pick', name: 'app' }, /^Input "name" must name the artifact and the alias to pick from/],
  ]) {
    const r = j.step({ ...stub, ...inputs });
    assert.equal(r.result, 'Failed', `${JSON.stringify(inputs)}: ${r.log()}`);
    assert.equal(r.errors.length, 1, r.log());
    assert.match(r.errors[0], expected);
  }
  j.cleanup();
});

const MANIFEST = `${JSON.stringify({ '/foo/bar.csv': '1.2.5', '/foo/bar.json': '0.1.6' })}\n`;

test('S3PodAssets@1 (stub contract): syncs, sets S3POD_ASSETS_DIR, and a warm agent downloads nothing', () => {
  const store = path.join(tmp, 'stub-store');
  const env = { S3POD_STORE: store };
  const inputs = { binary: stubBinary, endpoint: 'https://s3.example.test', bucket: 'b', prefix: 'assets-stub' };
  const downloads = () => (fs.existsSync(path.join(store, 'asset-downloads.log')) ? fs.readFileSync(path.join(store, 'asset-downloads.log'), 'utf8').trim().split('\n') : []);
  const cold = job(assetsTask, { 's3pod.assets.json': MANIFEST });
  const first = ok(cold.step(inputs, env));
  const dir = first.variables.assetsDir;
  assert.ok(dir && dir.endsWith('s3pod-assets'), first.log());
  assert.equal(first.variables.S3POD_ASSETS_DIR, dir);
  assert.equal(fs.readFileSync(path.join(dir, 'foo/bar.json/0.1.6'), 'utf8'), 'foo/bar.json@0.1.6\n');
  assert.equal(downloads().length, 2);
  assert.match(first.stdout, /Assets directory saved with key s3pod-assets-[0-9a-f]{64}/);
  cold.cleanup();

  const warm = job(assetsTask, { 's3pod.assets.json': MANIFEST });
  const second = ok(warm.step(inputs, env));
  assert.match(second.stdout, /: 0 downloaded, 2 already there/);
  assert.equal(downloads().length, 2, 'nothing downloaded on the warm agent');
  assert.match(second.summary, /exact hit/);
  warm.cleanup();

  const override = job(assetsTask, { 's3pod.assets.json': `${JSON.stringify({ assets: { 'dev/x': './x.bin' } })}\n` });
  const checked = override.step({ ...inputs, check: 'true' }, env);
  assert.equal(checked.result, 'Failed', checked.log());
  assert.deepEqual(checked.errors, ['s3pod.assets.json is not ready for CI: dev/x: override (overridden by ./x.bin)']);
  const missing = override.step({ ...inputs, manifest: 'other.json' }, env);
  assert.deepEqual(missing.errors, ['Input "manifest": cannot read other.json (no such file)']);
  override.cleanup();
});

test('S3PodAssets@1 (real binary): first agent downloads, a warm agent restores the directory and downloads nothing', { skip: syncSkip }, async () => {
  const repo = path.join(tmp, 'asset-repo');
  writeTree(repo, { 'clf.bin': 'weights\n' });
  const add = spawnSync(binary, ['asset', 'add', '/models/clf.bin', path.join(repo, 'clf.bin'), '--manifest', path.join(repo, 's3pod.assets.json'),
    '--endpoint', s3.endpoint, '--region', s3.region, '--bucket', s3.bucket, '--prefix', runId, '--json'], {
    encoding: 'utf8', env: { ...process.env, HOME: path.join(repo, '.home'), S3POD_S3_KEY_ID: s3.keyId, S3POD_S3_SECRET: s3.secret },
  });
  assert.equal(add.status, 0, add.stderr);
  const manifest = fs.readFileSync(path.join(repo, 's3pod.assets.json'), 'utf8');
  const cold = job(assetsTask, { 's3pod.assets.json': manifest });
  const first = ok(cold.step(storage({ check: 'true' })));
  assert.match(first.stdout, /: 1 downloaded, 0 already there/, first.log());
  assert.equal(fs.readFileSync(path.join(first.variables.assetsDir, 'models/clf.bin', JSON.parse(add.stdout).version), 'utf8'), 'weights\n');
  cold.cleanup();
  const warm = job(assetsTask, { 's3pod.assets.json': manifest });
  const second = ok(warm.step(storage()));
  assert.match(second.stdout, /: 0 downloaded, 1 already there/, second.log());
  assert.match(second.summary, /exact hit/);
  warm.cleanup();
});
