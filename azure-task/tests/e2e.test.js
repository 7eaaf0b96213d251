'use strict';
// End-to-end: the bundled entry points (built by scripts/package.js, as shipped in the .vsix), run
// as the agent runs them, against the real S3 server and the s3pod binary the harness provides:
//   S3POD_TEST_BINARY, S3POD_TEST_S3_ENDPOINT, S3POD_TEST_S3_REGION, S3POD_TEST_S3_KEY_ID,
//   S3POD_TEST_S3_SECRET (S3POD_TEST_S3_BUCKET optional; created if missing).
// Without them every test here is reported as skipped, with the reason.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { buildTask } = require('../scripts/package');
const { createJob, writeTree, readTree } = require('./e2e/harness');
const { s3Config, ensureBucket, listObjects } = require('./e2e/s3');
const { dockerAvailable } = require('../../action/__tests__/contract.cjs');

const binary = process.env.S3POD_TEST_BINARY ? path.resolve(process.env.S3POD_TEST_BINARY) : '';
const s3 = s3Config();
const skip = !binary
  ? 'S3POD_TEST_BINARY is not set (build the binary with ./publish-aot.sh; .ci/run sets it)'
  : !fs.existsSync(binary)
    ? `S3POD_TEST_BINARY=${binary} does not exist`
    : !s3
      ? 'S3POD_TEST_S3_ENDPOINT/KEY_ID/SECRET are not set (start tests/servers/ceph-rgw.sh)'
      : false;

const runId = `azure-e2e-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
let tmp;
let taskDir;

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-azure-e2e-'));
  taskDir = await buildTask(path.join(tmp, 'stage'));
  await ensureBucket(s3);
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** Inputs every step gets: the real bucket, credentials as inputs, the binary. */
function storage(extra = {}) {
  return {
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    prefix: runId,
    accessKeyId: s3.keyId,
    secretAccessKey: s3.secret,
    binary,
    ...extra,
  };
}

let dirCount = 0;
function workdir(files = {}) {
  const dir = path.join(tmp, `work-${++dirCount}`);
  fs.mkdirSync(dir, { recursive: true });
  writeTree(dir, files);
  return dir;
}

/** Runs execution then postjobexecution in one job, handing task variables across. */
function runJob(dir, inputs, { env = {}, jobStatus = 'Succeeded' } = {}) {
  const job = createJob({ taskDir, workdir: dir });
  try {
    const main = job.runStep('main', { inputs, env });
    const post = job.runStep('post', { inputs, env: { ...env, AGENT_JOBSTATUS: jobStatus }, taskVariables: main.taskVariables });
    return { main, post };
  } finally {
    job.cleanup();
  }
}

// Cache objects (archives and manifests). A restore also touches a small last-use marker under
// caches-used/ (for prune); that is bookkeeping, not an upload of the cache.
const objects = async () => (await listObjects(s3, runId)).filter((o) => !o.key.includes('/caches-used/'));

test('miss -> post-job saves -> next run hits exactly (true) and uploads nothing', { skip }, async () => {
  const files = { 'package-lock.json': '{"lockfileVersion":3}\n', 'node_modules/left-pad/index.js': 'module.exports = 1;\n', 'node_modules/.bin/x': '#!/bin/sh\n' };
  const inputs = storage({ key: 'npm | "Linux" | package-lock.json', path: 'node_modules', cacheHitVar: 'CACHE_HIT' });

  const first = runJob(workdir(files), inputs);
  assert.equal(first.main.result, 'Succeeded', first.main.log());
  assert.equal(first.main.variables.CACHE_HIT, 'false', first.main.log());
  assert.equal(first.main.taskVariables.RESTORE_STEP_RAN, 'true');
  assert.match(first.main.taskVariables.S3POD_PRIMARY_KEY, /^npm\/Linux\/[0-9a-f]{64}$/);
  assert.equal(first.post.result, 'Succeeded', first.post.log());
  assert.deepEqual(first.post.warnings, [], first.post.log());
  assert.match(first.post.stdout, /Cache saved with key/, first.post.log());
  const afterSave = await objects();
  assert.ok(afterSave.length >= 1, 'the save wrote to the bucket');

  const dir = workdir({ 'package-lock.json': files['package-lock.json'] });
  const second = runJob(dir, inputs);
  assert.equal(second.main.variables.CACHE_HIT, 'true', second.main.log());
  assert.deepEqual(readTree(path.join(dir, 'node_modules')), {
    'left-pad/index.js': files['node_modules/left-pad/index.js'],
    '.bin/x': files['node_modules/.bin/x'],
  });
  assert.match(second.post.stdout, /cache hit occurred on the primary key/, second.post.log());
  assert.deepEqual(await objects(), afterSave, 'nothing uploaded after an exact hit');
});

test('restore-key hit -> inexact, and the post-job step saves the new key', { skip }, async () => {
  const inputs = storage({ key: 'yarn | "Linux" | yarn.lock', restoreKeys: 'yarn | "Linux"', path: '.yarn-cache', cacheHitVar: 'HIT' });
  const seed = runJob(workdir({ 'yarn.lock': 'v1\n', '.yarn-cache/a.zip': 'A1' }), inputs);
  assert.equal(seed.main.variables.HIT, 'false', seed.main.log());
  assert.match(seed.post.stdout, /Cache saved/, seed.post.log());
  const before = await objects();

  const dir = workdir({ 'yarn.lock': 'v2\n' });
  const next = runJob(dir, inputs);
  assert.equal(next.main.variables.HIT, 'inexact', next.main.log());
  assert.equal(fs.readFileSync(path.join(dir, '.yarn-cache/a.zip'), 'utf8'), 'A1');
  assert.match(next.post.stdout, /Cache saved/, next.post.log());
  assert.ok((await objects()).length > before.length, 'the new key was uploaded');
});

test('Cache@2 key syntax: the same file hits, a changed file misses', { skip }, async () => {
  const inputs = storage({ key: 'gradle | "$(Agent.OS)" | **/*.gradle, !build/**', path: 'gcache', cacheHitVar: 'HIT' });
  const seed = runJob(workdir({ 'app/build.gradle': 'dep 1\n', 'build/x.gradle': 'ignored\n', 'gcache/f': 'g' }), inputs);
  assert.equal(seed.main.variables.HIT, 'false', seed.main.log());
  assert.match(seed.post.stdout, /Cache saved/, seed.post.log());

  const same = runJob(workdir({ 'app/build.gradle': 'dep 1\n', 'build/x.gradle': 'excluded, so it may differ\n' }), inputs);
  assert.equal(same.main.variables.HIT, 'true', same.main.log());

  const changed = runJob(workdir({ 'app/build.gradle': 'dep 2\n' }), inputs, { jobStatus: 'Failed' });
  assert.equal(changed.main.variables.HIT, 'false', changed.main.log());
});

test('failed job -> the post-job step saves nothing', { skip }, async () => {
  const inputs = storage({ key: 'failed-job | "k1"', path: 'out' });
  const before = await objects();
  const run = runJob(workdir({ 'out/f': 'x' }), inputs, { jobStatus: 'Failed' });
  assert.equal(run.main.result, 'Succeeded', run.main.log());
  assert.match(run.post.stdout, /Not saving: the job status is failure/, run.post.log());
  assert.deepEqual(await objects(), before);
});

test('main step skipped by its condition -> the post-job step does nothing', { skip }, async () => {
  const dir = workdir({ 'out/f': 'x' });
  const job = createJob({ taskDir, workdir: dir });
  try {
    const before = await objects();
    const post = job.runStep('post', { inputs: storage({ key: 'skipped', path: 'out', save: 'always' }) });
    assert.equal(post.result, 'Succeeded', post.log());
    assert.match(post.stdout, /Not saving: the restore step did not complete/, post.log());
    assert.deepEqual(await objects(), before);
  } finally {
    job.cleanup();
  }
});

test('pull request: reads its target branch, writes only refs/pull/N/merge', { skip }, async () => {
  const pr = { BUILD_SOURCEBRANCH: 'refs/pull/9/merge', SYSTEM_PULLREQUEST_TARGETBRANCH: 'develop', BUILD_REASON: 'PullRequest' };
  const onDevelop = { BUILD_SOURCEBRANCH: 'refs/heads/develop' };
  const inputs = storage({ key: 'pr-scope | "base"', path: 'c', cacheHitVar: 'HIT' });
  const seed = runJob(workdir({ 'c/f': 'base' }), inputs, { env: onDevelop });
  assert.match(seed.post.stdout, /Cache saved/, seed.post.log());

  const dir = workdir();
  const prRun = runJob(dir, inputs, { env: pr });
  assert.equal(prRun.main.variables.HIT, 'true', prRun.main.log());
  assert.equal(fs.readFileSync(path.join(dir, 'c/f'), 'utf8'), 'base');

  const prInputs = storage({ key: 'pr-scope | "pr-only"', path: 'c', cacheHitVar: 'HIT' });
  const prSave = runJob(workdir({ 'c/f': 'pr' }), prInputs, { env: pr });
  assert.equal(prSave.main.variables.HIT, 'false', prSave.main.log());
  assert.match(prSave.post.stdout, /Cache saved/, prSave.post.log());
  const rerun = runJob(workdir(), prInputs, { env: pr });
  assert.equal(rerun.main.variables.HIT, 'true', 'a re-run of the PR reads its own scope');
  const target = runJob(workdir(), prInputs, { env: onDevelop, jobStatus: 'Failed' });
  assert.equal(target.main.variables.HIT, 'false', 'the PR did not write to its target branch');
});

test('bad inputs fail the step with an error naming the input; nothing is recorded for the post-job step', { skip }, async () => {
  const dir = workdir();
  const job = createJob({ taskDir, workdir: dir });
  try {
    for (const [bad, name] of [
      [{ compressionLevel: 'fast' }, 'compressionLevel'],
      [{ save: 'sometimes' }, 'save'],
      [{ key: 'npm | missing/*.lock' }, 'key'],
      [{ accessKeyId: '' }, 'accessKeyId'],
    ]) {
      const r = job.runStep('main', { inputs: storage({ key: 'k', path: 'p', ...bad }) });
      assert.equal(r.result, 'Failed', r.log());
      assert.equal(r.errors.length, 1, r.log());
      assert.match(r.errors[0], new RegExp(`\\b${name}\\b`), r.log());
      assert.equal(r.taskVariables.RESTORE_STEP_RAN, undefined);
    }
  } finally {
    job.cleanup();
  }
});

test('secrets: registered with task.setsecret before anything shows them; never in our output', { skip }, async () => {
  const run = runJob(workdir({ 'p/f': 'x' }), storage({ key: 'secrets | "k"', path: 'p' }), { env: { SYSTEM_DEBUG: 'true' } });
  for (const step of [run.main, run.post]) {
    const lines = step.stdout.split('\n');
    const registered = lines.findIndex((l) => l === `##vso[task.setsecret]${s3.secret}`);
    assert.ok(registered >= 0, step.log());
    lines.forEach((l, i) => {
      if (!l.includes(s3.secret)) return;
      // After registration the agent masks the value (task-lib's own debug echo of inputs).
      assert.ok(i >= registered, `secret on line ${i}, before it was registered`);
      assert.ok(/^##vso\[task\.(setsecret|debug)\]/.test(l), `secret printed on line ${i}`);
    });
    assert.ok(!step.stderr.includes(s3.secret));
  }
});

test('a miss prints why: the binary\'s summary, then each reason, one console line each', { skip }, async () => {
  const inputs = storage({ key: 'why | "k"', path: 'w', cacheHitVar: 'HIT' });
  const seed = runJob(workdir({ 'w/f': 'x' }), inputs);
  assert.match(seed.post.stdout, /Cache saved/, seed.post.log());
  const other = runJob(workdir(), storage({ key: 'why | "k"', path: 'elsewhere' }), { jobStatus: 'Failed' });
  const lines = other.main.stdout.split('\n');
  const at = lines.indexOf('Cache not found for input keys: why/k');
  assert.ok(at >= 0, other.main.log());
  assert.match(lines[at + 1] || '', /^Why: \S/, `the summary follows the miss line:\n${other.main.log()}`);
  assert.match(lines[at + 2] || '', /^ {2}- \S/, `then the reasons:\n${other.main.log()}`);
});

test('readOnly: auto: a fork\'s pull request restores but the post-job step saves nothing', { skip }, async () => {
  const fork = { BUILD_SOURCEBRANCH: 'refs/pull/11/merge', SYSTEM_PULLREQUEST_TARGETBRANCH: 'main', SYSTEM_PULLREQUEST_ISFORK: 'True' };
  const before = await objects();
  const run = runJob(workdir({ 'f/x': 'fork' }), storage({ key: 'fork | "k"', path: 'f', save: 'always' }), { env: fork });
  assert.equal(run.main.result, 'Succeeded', run.main.log());
  assert.match(run.main.stdout, /This job will not save the cache: pull requests from forks are read-only \(readOnly: auto\)/, run.main.log());
  assert.match(run.post.stdout, /Not saving: read-only: pull requests from forks are read-only/, run.post.log());
  assert.deepEqual(await objects(), before);
});

const dockerSkip = skip || dockerAvailable();
test('dockerImage: miss -> post-job saves the image -> next run loads it; cacheSize is the stored size', { skip: dockerSkip }, async () => {
  const image = `s3pod-azure-e2e/${runId}:1`;
  const docker = (...args) => require('child_process').spawnSync('docker', args, { encoding: 'utf8', timeout: 120000 });
  assert.equal(docker('tag', process.env.S3POD_TEST_DOCKER_IMAGE, image).status, 0);
  try {
    const inputs = storage({ key: 'img-{hash}', hashFiles: 'Dockerfile', path: '', dockerImage: image, cacheHitVar: 'IMG' });
    const first = runJob(workdir({ Dockerfile: 'FROM scratch\n' }), inputs);
    assert.equal(first.main.variables.IMG, 'false', first.main.log());
    assert.match(first.post.stdout, /Cache saved with key img-[0-9a-f]+/, first.post.log());
    assert.equal(docker('rmi', image).status, 0);
    const second = runJob(workdir({ Dockerfile: 'FROM scratch\n' }), inputs);
    assert.equal(second.main.variables.IMG, 'true', second.main.log());
    assert.equal(docker('image', 'inspect', image).status, 0, 'the image was loaded');
    // A chunked entry: its manifest under the key, and its size is that of its chunks.
    const all = await objects();
    const key = second.main.variables.primaryKey;
    assert.ok(all.some((o) => o.key.includes(`/caches/`) && o.key.includes(`/${key}/image-`) && o.key.endsWith('.json')), `the entry's manifest is in the bucket: ${all.map((o) => o.key).join(', ')}`);
    const chunkBytes = all.filter((o) => o.key.includes('/chunks/sha256/')).reduce((n, o) => n + o.size, 0);
    const size = Number(second.main.variables.cacheSize);
    assert.ok(size > 0 && size <= chunkBytes, `cacheSize ${size} is the stored size of the image's chunks (${chunkBytes} bytes of chunks in the store)`);
  } finally {
    docker('rmi', image);
  }
});
