// The artifact sub-action (artifact/action.yml -> dist/artifact.js), run as the runner runs it,
// against the real s3pod binary and Ceph RGW (skipped with the reason without them). Bad inputs
// are checked without a binary: they must fail before one is looked for.
import { describe, test as nodeTest, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createJob, runStep, writeFiles } from './harness.mjs';
import { realBackend, stubBackend } from './backends.mjs';

const PR_EVENT = (number, headRepo, fork) => ({
  number,
  pull_request: { number, head: { ref: 'feature', repo: { full_name: headRepo, fork } }, base: { ref: 'main', repo: { full_name: 'octo/app' } } },
});
const pushJob = (ref = 'refs/heads/main') => createJob({ eventName: 'push', ref });
const forkJob = () => createJob({ eventName: 'pull_request', ref: 'refs/pull/9/merge', baseRef: 'main', event: PR_EVENT(9, 'evil/app', true) });
const targetJob = () => createJob({ eventName: 'pull_request_target', ref: 'refs/heads/main', baseRef: 'main', event: PR_EVENT(10, 'evil/app', true) });

const backend = realBackend();
const test = (name, fn) => nodeTest(name, { skip: backend.skip }, fn);

describe('artifact action (real s3pod + S3)', () => {
  let base;
  let prefix;
  before(async () => {
    if (backend.skip) return;
    prefix = await backend.newPrefix();
    base = backend.inputs(prefix);
  });
  const run = (job, inputs) => runStep(job, 'artifact', { ...base, ...inputs });
  /** The binary itself, to check what the action did in the store. */
  const s3pod = (...args) => {
    const r = spawnSync(base.binary, [...args, '--endpoint', base.endpoint, '--region', base.region, '--bucket', base.bucket, '--prefix', prefix, '--json'], {
      encoding: 'utf8', env: { ...process.env, S3POD_S3_KEY_ID: base['access-key-id'], S3POD_S3_SECRET: base['secret-access-key'] },
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const ok = (r) => {
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(r.errors, [], r.log);
    return r;
  };

  test('push -> version output -> pull by alias -> alias move in the summary -> rollback', async () => {
    const build = pushJob();
    writeFiles(build.workspace, { 'out/app.bin': 'release one\n' });
    const first = ok(await run(build, { command: 'push', name: 'web/app', path: 'out/app.bin', alias: 'live', meta: 'git=1111\nbranch=main' }));
    assert.equal(first.outputs.version, '1');
    assert.match(first.outputs.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(first.outputs.path, path.join(build.workspace, 'out/app.bin'));
    assert.equal(first.outputs['previous-version'], '', 'a new alias has no previous version');
    assert.match(first.summary, /### s3pod artifact push/);
    assert.match(first.summary, /\| `live` \| - \(new\) \| 1 \|/);
    assert.deepEqual(s3pod('artifact', 'info', 'web/app:1').record.metadata, { git: '1111', branch: 'main' });

    writeFiles(build.workspace, { 'out/app.bin': 'release two\n' });
    const second = ok(await run(build, { command: 'push', name: 'web/app', path: 'out/app.bin', alias: 'live' }));
    assert.equal(second.outputs.version, '2');
    assert.equal(second.outputs['previous-version'], '1');
    assert.match(second.summary, /\| `live` \| `1` \| 2 \|/, 'the summary says live moved from 1 to 2');
    assert.notEqual(second.outputs.digest, first.outputs.digest);

    const deploy = pushJob();
    const pulled = ok(await run(deploy, { command: 'pull', name: 'web/app:live', path: 'bin/app' }));
    assert.equal(pulled.outputs.version, '2');
    assert.equal(pulled.outputs.digest, second.outputs.digest);
    assert.equal(pulled.outputs.path, path.join(deploy.workspace, 'bin/app'));
    assert.equal(fs.readFileSync(path.join(deploy.workspace, 'bin/app'), 'utf8'), 'release two\n');

    const rollback = ok(await run(deploy, { command: 'alias', name: 'web/app', alias: 'live', version: 'previous' }));
    assert.equal(rollback.outputs.version, '1');
    assert.equal(rollback.outputs['previous-version'], '2');
    assert.match(rollback.summary, /\| `live` \| `2` \| 1 \|/);
    const again = ok(await run(pushJob(), { command: 'pull', name: 'web/app:live', path: 'bin/app' }));
    assert.equal(again.outputs.version, '1');
    assert.equal(again.outputs.digest, first.outputs.digest);

    // A pinned version and `latest` resolve without the alias.
    assert.equal(ok(await run(pushJob(), { command: 'pull', name: 'web/app', path: 'x' })).outputs.version, '2');
    assert.equal(ok(await run(pushJob(), { command: 'pull', name: 'web/app:1', path: 'x' })).outputs.version, '1');
  });

  test('promote with expect: the right current version moves the alias, a stale one fails with a conflict and moves nothing', async () => {
    const job = pushJob();
    writeFiles(job.workspace, { 'a.txt': 'a' });
    ok(await run(job, { command: 'push', name: 'promo', path: 'a.txt', alias: 'live' }));
    writeFiles(job.workspace, { 'a.txt': 'b' });
    ok(await run(job, { command: 'push', name: 'promo', path: 'a.txt' }));
    const promoted = ok(await run(job, { command: 'alias', name: 'promo', alias: 'live', version: '2', expect: '1' }));
    assert.equal(promoted.outputs.version, '2');
    assert.equal(promoted.outputs['previous-version'], '1');
    const stale = await run(job, { command: 'alias', name: 'promo', alias: 'live', version: '1', expect: '1' });
    assert.equal(stale.code, 1, stale.log);
    assert.equal(stale.errors.length, 1, stale.log);
    assert.match(stale.errors[0], /Could not move alias live of promo to 1 \(conflict\)/);
    assert.equal(s3pod('artifact', 'alias', 'list', 'promo').aliases.find((a) => a.alias === 'live').version, '2', 'live did not move');
    assert.equal(stale.outputs.version, '', 'no version output after a failure');
  });

  test('canary with a weight: pick gives the secondary at 100%, the primary at 0%; pick with path pulls it', async () => {
    const job = pushJob();
    for (const content of ['one', 'two']) {
      writeFiles(job.workspace, { 'svc.bin': content });
      ok(await run(job, { command: 'push', name: 'svc', path: 'svc.bin' }));
    }
    const canary = ok(await run(job, { command: 'alias', name: 'svc', alias: 'live', version: '1', secondary: '2', weight: '100' }));
    assert.match(canary.summary, /2 for 100% of picks/);
    const alias = s3pod('artifact', 'alias', 'list', 'svc').aliases[0];
    assert.deepEqual([alias.version, alias.secondary, alias.weight], ['1', '2', 100]);
    const all = ok(await run(job, { command: 'pick', name: 'svc:live', path: 'deployed.bin' }));
    assert.equal(all.outputs.version, '2');
    assert.equal(fs.readFileSync(path.join(job.workspace, 'deployed.bin'), 'utf8'), 'two');
    assert.match(all.outputs.digest, /^sha256:/);
    ok(await run(job, { command: 'alias', name: 'svc', alias: 'live', version: '1', secondary: '2', weight: '0' }));
    const none = ok(await run(job, { command: 'pick', name: 'svc:live' }));
    assert.equal(none.outputs.version, '1');
    assert.equal(none.outputs.path, '', 'pick without path pulls nothing');
  });

  // A file: the binary's directory archives are not byte-reproducible yet (two stages of the same
  // directory get different digests), so --if-changed cannot see an unchanged directory.
  test('publish stages the path and makes a version only when the content changed', async () => {
    const job = pushJob();
    writeFiles(job.workspace, { 'db/geo.sqlite': 'v1' });
    const one = ok(await run(job, { command: 'publish', name: 'geo/db', path: 'db/geo.sqlite', alias: 'live' }));
    assert.equal(one.outputs.version, '1');
    const same = ok(await run(job, { command: 'publish', name: 'geo/db', path: 'db/geo.sqlite' }));
    assert.equal(same.outputs.version, '1', 'the same content publishes no new version');
    assert.match(same.summary, /unchanged: no new version/);
    writeFiles(job.workspace, { 'db/geo.sqlite': 'v2' });
    const two = ok(await run(job, { command: 'publish', name: 'geo/db', path: 'db/geo.sqlite', alias: 'live' }));
    assert.equal(two.outputs.version, '2');
    assert.equal(two.outputs['previous-version'], '1');
    assert.deepEqual(s3pod('artifact', 'versions', 'geo/db').versions.map((v) => v.version), ['2', '1']);
  });

  test('concurrent pushes from two jobs get distinct versions, both recorded', async () => {
    const jobs = [pushJob(), pushJob(), pushJob()];
    jobs.forEach((j, i) => writeFiles(j.workspace, { 'build.tar': `job ${i}` }));
    const results = await Promise.all(jobs.map((j) => run(j, { command: 'push', name: 'race', path: 'build.tar' })));
    results.forEach(ok);
    const versions = results.map((r) => r.outputs.version);
    assert.deepEqual([...versions].sort(), ['1', '2', '3'], `distinct versions: ${versions}`);
    const listed = s3pod('artifact', 'versions', 'race').versions.map((v) => v.version).sort();
    assert.deepEqual(listed, ['1', '2', '3']);
    // Each version holds the content of the job that got it.
    for (const [i, r] of results.entries()) {
      const out = pushJob();
      ok(await run(out, { command: 'pull', name: `race:${r.outputs.version}`, path: 'got' }));
      assert.equal(fs.readFileSync(path.join(out.workspace, 'got'), 'utf8'), `job ${i}`);
    }
  });

  test('read-only auto: a fork PR and pull_request_target cannot push or move aliases, but can pull', async () => {
    const seed = pushJob();
    writeFiles(seed.workspace, { 'x.bin': 'trusted' });
    ok(await run(seed, { command: 'push', name: 'guarded', path: 'x.bin', alias: 'live' }));
    const before = await backend.objects(prefix);
    for (const [label, make] of [['fork PR', forkJob], ['pull_request_target', targetJob]]) {
      const job = make();
      writeFiles(job.workspace, { 'x.bin': 'evil' });
      const pushed = await run(job, { command: 'push', name: 'guarded', path: 'x.bin' });
      assert.equal(pushed.code, 1, `${label}: ${pushed.log}`);
      assert.equal(pushed.errors.length, 1, pushed.log);
      assert.match(pushed.errors[0], /Refusing to push guarded: .*read-only \(read-only: auto\)/);
      const moved = await run(job, { command: 'alias', name: 'guarded', alias: 'live', version: '1' });
      assert.match(moved.errors.join('\n'), /Refusing to move aliases of guarded/, moved.log);
      const published = await run(job, { command: 'publish', name: 'guarded', path: 'x.bin' });
      assert.match(published.errors.join('\n'), /Refusing to publish guarded/, published.log);
      const pulled = ok(await run(job, { command: 'pull', name: 'guarded:live', path: 'got' }));
      assert.equal(fs.readFileSync(path.join(job.workspace, 'got'), 'utf8'), 'trusted');
    }
    assert.deepEqual((await backend.objects(prefix)).sort(), before.sort(), 'nothing was written');
    // read-only: false lets a trusted maintainer override auto.
    const forced = forkJob();
    writeFiles(forced.workspace, { 'x.bin': 'reviewed' });
    assert.equal(ok(await run(forced, { command: 'push', name: 'guarded', path: 'x.bin', 'read-only': 'false' })).outputs.version, '2');
  });

  test('errors of the binary are one line: a version that exists (exit 4), an artifact that does not (exit 1)', async () => {
    const job = pushJob();
    writeFiles(job.workspace, { 'f.txt': 'f' });
    ok(await run(job, { command: 'push', name: 'exact', path: 'f.txt', version: '7' }));
    const dup = await run(job, { command: 'push', name: 'exact', path: 'f.txt', version: '7' });
    assert.equal(dup.code, 1);
    assert.equal(dup.errors.length, 1, dup.log);
    assert.match(dup.errors[0], /^::error::Failed to push exact \(conflict\): /);
    const missing = await run(job, { command: 'pull', name: 'no-such-artifact:live' });
    assert.equal(missing.errors.length, 1, missing.log);
    assert.match(missing.errors[0], /^::error::Failed to pull no-such-artifact:live: /);
    const noPrevious = await run(job, { command: 'alias', name: 'exact', alias: 'ghost', version: 'previous' });
    assert.match(noPrevious.errors.join('\n'), /Cannot roll back alias ghost of exact: exact has no alias ghost/);
  });
});

describe('artifact action: bad inputs fail with one error naming the input (no binary needed)', () => {
  const stub = stubBackend();
  const cases = [
    [{ name: 'app' }, /Input required and not supplied: command/],
    [{ command: 'upload', name: 'app' }, /Input "command" must be one of push, pull, publish, alias, pick, not "upload"/],
    [{ command: 'push', path: 'x' }, /Input required and not supplied: name/],
    [{ command: 'push', name: 'app' }, /Input required and not supplied: path/],
    [{ command: 'push', name: 'app:3', path: 'x' }, /Input "name" must be an artifact name .* \(a spec such as app:3 is for pull and pick\)/],
    [{ command: 'push', name: 'app', path: 'x', version: '3', bump: 'minor' }, /Inputs "version" and "bump" cannot be used together/],
    [{ command: 'push', name: 'app', path: 'x', bump: 'huge' }, /Input "bump" must be one of major, minor, patch, not "huge"/],
    [{ command: 'push', name: 'app', path: 'x', weight: '10' }, /Input "weight" is not used by command: push/],
    [{ command: 'push', name: 'app', path: 'x', meta: 'novalue' }, /Input "meta" must hold KEY=VALUE lines/],
    [{ command: 'push', name: 'app', path: 'x', meta: 'a=1\na=2' }, /Input "meta" gives a twice/],
    [{ command: 'push', name: 'app', path: 'x', alias: 'live now' }, /Input "alias" must list alias names/],
    [{ command: 'alias', name: 'app', alias: 'live' }, /Input required and not supplied: version/],
    [{ command: 'alias', name: 'app', version: '3' }, /Input required and not supplied: alias/],
    [{ command: 'alias', name: 'app', alias: 'live', version: '3', weight: '150', secondary: '4' }, /Input "weight" must be a whole number from 0 to 100/],
    [{ command: 'alias', name: 'app', alias: 'live', version: '3', secondary: '4' }, /Input "weight" is required when "secondary" is set/],
    [{ command: 'alias', name: 'app', alias: 'live', version: '3', weight: '5' }, /Input "secondary" is required when "weight" is set/],
    [{ command: 'pick', name: 'app' }, /Input "name" must name the artifact and the alias to pick from, such as app:live/],
    [{ command: 'pull', name: 'app', alias: 'live' }, /Input "alias" is not used by command: pull/],
    [{ command: 'pull', name: 'bad name!' }, /Input "name" must be an artifact spec/],
    [{ command: 'pull', name: 'app', 'read-only': 'maybe' }, /Input "read-only" must be one of auto, true, false, not "maybe"/],
    [{ command: 'pull', name: 'app', 's3pod-version': 'latest' }, /Input "s3pod-version" must be a version such as 1.2.3/],
    [{ command: 'pull', name: 'app', endpoint: 'ftp://x' }, /Input "endpoint" must be an http:\/\/ or https:\/\/ URL/],
  ];
  for (const [inputs, expected] of cases) {
    nodeTest(`${JSON.stringify(inputs)} -> ${expected.source.slice(0, 60)}`, async () => {
      const job = pushJob();
      const ran = stub.invocations().length;
      const r = await runStep(job, 'artifact', { ...stub.inputs('bad-inputs'), ...inputs }, { env: stub.env() });
      assert.equal(r.code, 1, r.log);
      assert.equal(r.errors.length, 1, r.log);
      assert.match(r.errors[0], expected);
      assert.equal(stub.invocations().length, ran, 'the binary never ran');
    });
  }
});
