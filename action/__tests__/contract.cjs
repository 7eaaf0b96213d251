'use strict';
// The binary's JSON contract as the wrappers rely on it, checked against REAL output of every
// command the shared core runs (key, save, restore, with --path and with --docker-image, and an
// error). The GitHub Action's suite and the Azure task's suite both run these cases; the action's
// also runs them against the stub binary, which must follow the same contract.
//
// The schemas are written from the contract, not from the code: exact field sets (a field too
// many or too few fails, as does a wrong type), camelCase, `size` for the bytes of the stored
// object everywhere.
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const T = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  strings: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  isoDate: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
};
const orNull = (check) => (v) => v === null || check(v);

const SCHEMAS = {
  key: { key: T.string, hash: orNull(T.string) },
  save: {
    key: T.string, scope: orNull(T.string), saved: T.boolean, skippedReason: orNull(T.string),
    size: T.number, files: T.number, uncompressedSize: T.number, seconds: T.number,
    uploadedBytes: orNull(T.number), reusedBytes: orNull(T.number), chunks: orNull(T.number), uploadedChunks: orNull(T.number), updated: T.boolean,
    image: orNull(T.string), imageId: orNull(T.string),
  },
  restore: {
    primaryKey: T.string, matchedKey: orNull(T.string), exactMatch: T.boolean, matchedScope: orNull(T.string),
    size: orNull(T.number), restored: T.boolean, lookupOnly: T.boolean, files: orNull(T.number),
    seconds: T.number, miss: (v) => v === null || (typeof v === 'object' && !Array.isArray(v)),
    downloadedBytes: orNull(T.number), chunkCacheBytes: orNull(T.number), image: orNull(T.string), imageId: orNull(T.string),
  },
  miss: { summary: T.string, reasons: T.strings, nearest: Array.isArray },
  nearest: { scope: T.string, key: T.string, paths: orNull(T.strings), lastModified: T.isoDate, differences: T.strings, image: orNull(T.string) },
  transfer: {
    key: T.string, action: T.string, size: T.number, seconds: T.number, sha256: orNull(T.string),
    source: orNull(T.string), path: orNull(T.string), skipped: T.boolean, skippedReason: orNull(T.string), files: orNull(T.number),
    uncompressedSize: orNull(T.number),
  },
  exists: { key: T.string, exists: T.boolean, size: orNull(T.number), lastModified: orNull(T.isoDate) },
  error: { error: T.string, exitCode: T.number },
  // artifact and asset commands (the artifact and assets flows)
  push: {
    name: T.string, version: T.string, scheme: T.string, kind: T.string, digest: T.string, size: T.number,
    contentSize: orNull(T.number), files: orNull(T.number), blob: T.string, uploaded: T.boolean, published: T.boolean,
    aliases: T.strings, attempts: T.number, seconds: T.number,
  },
  stage: {
    name: T.string, kind: T.string, digest: T.string, size: T.number, contentSize: orNull(T.number), files: orNull(T.number),
    blob: T.string, uploaded: T.boolean, previousDigest: orNull(T.string), seconds: T.number,
  },
  pull: {
    name: T.string, version: orNull(T.string), resolvedBy: T.string, kind: T.string, path: T.string, digest: T.string,
    size: T.number, files: orNull(T.number), subPath: orNull(T.string), seconds: T.number,
  },
  aliasSet: { name: T.string, alias: T.string, version: T.string, secondary: orNull(T.string), weight: T.number, previousVersion: orNull(T.string), changed: T.boolean },
  aliasList: { name: T.string, aliases: Array.isArray },
  aliasEntry: { alias: T.string, version: T.string, secondary: orNull(T.string), weight: T.number, previous: orNull(T.string), updated: T.isoDate, updatedBy: T.string },
  pick: { name: T.string, alias: T.string, version: T.string, picked: T.string, bucket: T.number, seed: orNull(T.string) },
  sync: { manifest: T.string, assetsDir: T.string, entries: Array.isArray, downloaded: T.number, present: T.number, failed: Array.isArray, pruned: Array.isArray },
  syncEntry: { path: T.string, name: T.string, version: orNull(T.string), digest: orNull(T.string), local: T.string, downloaded: T.boolean, size: orNull(T.number) },
  syncFailure: { path: T.string, error: T.string },
  check: { manifest: T.string, ok: T.boolean, problems: Array.isArray, warnings: T.strings, store: orNull(T.string) },
  problem: { path: T.string, name: T.string, problem: T.string, detail: T.string },
};

/** Fails with every difference between `value` and the schema `kind`: missing, extra, mistyped. */
function checkContract(kind, value) {
  const schema = SCHEMAS[kind];
  assert.ok(value && typeof value === 'object' && !Array.isArray(value), `${kind}: expected one JSON object, got ${JSON.stringify(value)}`);
  const problems = [];
  for (const [name, ok] of Object.entries(schema)) {
    if (!(name in value)) problems.push(`missing "${name}"`);
    else if (!ok(value[name])) problems.push(`"${name}" has the wrong type: ${JSON.stringify(value[name])}`);
  }
  for (const name of Object.keys(value)) if (!(name in schema)) problems.push(`unexpected "${name}"`);
  assert.deepEqual(problems, [], `${kind} result ${JSON.stringify(value)}: ${problems.join('; ')}`);
  if (kind === 'aliasList') value.aliases.forEach((entry) => checkContract('aliasEntry', entry));
  if (kind === 'sync') {
    value.entries.forEach((entry) => checkContract('syncEntry', entry));
    value.failed.forEach((entry) => checkContract('syncFailure', entry));
  }
  if (kind === 'check') value.problems.forEach((entry) => checkContract('problem', entry));
  if (kind === 'restore' && value.miss !== null) {
    checkContract('miss', value.miss);
    value.miss.nearest.forEach((entry) => checkContract('nearest', entry));
  }
  return value;
}

/** stdout must be exactly one JSON object (and nothing else). */
function oneObject(result) {
  const text = result.stdout.trim();
  assert.ok(text, `no JSON on stdout (exit ${result.exitCode}); stderr: ${result.stderr}`);
  assert.equal(text.split('\n').length, 1, `more than one line on stdout: ${text}`);
  return JSON.parse(text);
}

function dockerAvailable() {
  if (process.env.S3POD_TEST_DOCKER !== '1' || !process.env.S3POD_TEST_DOCKER_IMAGE) {
    return 'S3POD_TEST_DOCKER=1 and S3POD_TEST_DOCKER_IMAGE are not set (source /work/devenv/docker.env or start tests/servers/docker.sh)';
  }
  const r = spawnSync('docker', ['image', 'inspect', process.env.S3POD_TEST_DOCKER_IMAGE], { encoding: 'utf8', timeout: 30000 });
  return r.status === 0 ? false : `docker cannot inspect ${process.env.S3POD_TEST_DOCKER_IMAGE}: ${(r.stderr || r.error?.message || '').trim()}`;
}

const docker = (...args) => spawnSync('docker', args, { encoding: 'utf8', timeout: 120000 });

/**
 * The cases, in order (later ones use what earlier ones stored). Each is { name, skip, run }.
 *   core     the wrapper core (its runS3pod runs the binary, its readers read the results)
 *   binary   the s3pod binary, or a skip reason in `skip`
 *   s3       { endpoint, region, keyId, secret, bucket } for a real store, or null with `storeDir`
 *            (the stub's directory store)
 *   realDocker  whether docker cases need a real dockerd (false for the stub)
 *   failEnv  environment that makes `restore` fail operationally (the stub needs a switch)
 *   artifacts  whether the binary has the artifact commands (the stub has only asset sync / check)
 */
function contractCases({ core, binary, skip = false, s3 = null, storeDir = null, realDocker = true, failEnv = {}, ensureBucket = async () => {}, artifacts = true }) {
  const runId = `contract-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
  const dockerSkip = skip || (realDocker ? dockerAvailable() : false);
  let work;
  let image;
  const saved = {};
  let readyPromise;
  const ready = () => {
    readyPromise ||= (async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-contract-'));
      process.once('exit', () => fs.rmSync(work, { recursive: true, force: true }));
      fs.mkdirSync(path.join(work, 'deps', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(work, 'deps', 'a.txt'), 'alpha\n');
      fs.writeFileSync(path.join(work, 'deps', 'sub', 'b.bin'), 'bravo'.repeat(2000));
      fs.writeFileSync(path.join(work, 'go.sum'), 'module hashes\n');
      if (s3) await ensureBucket(s3);
    })();
    return readyPromise;
  };
  const env = (extra = {}) => ({
    ...process.env,
    ...(s3 ? { S3POD_S3_KEY_ID: s3.keyId, S3POD_S3_SECRET: s3.secret } : { S3POD_STORE: storeDir }),
    ...extra,
  });
  const store = s3 ? ['--endpoint', s3.endpoint, '--region', s3.region, '--bucket', s3.bucket, '--prefix', runId] : ['--prefix', runId];
  const run = async (args, extraEnv) => {
    await ready();
    return core.runS3pod(binary, [...args, ...store], { env: env(extraEnv), cwd: work });
  };
  const ok = (result) => assert.equal(result.exitCode, 0, `exit ${result.exitCode}: ${result.stderr}`);

  const cases = [
    ['key: {key, hash} for a template with {hash} and one without', async () => {
      const withHash = await core.runS3pod(binary, ['key', 'go-{hash}', '--hash-from', 'go.sum'], { env: env(), cwd: (await ready(), work) });
      ok(withHash);
      const a = checkContract('key', oneObject(withHash));
      assert.equal(core.readKey(a), `go-${a.hash}`);
      assert.match(a.hash, /^[0-9a-f]{8,64}$/);
      const noHash = await core.runS3pod(binary, ['key', 'deps.v1', '--hash-from', 'go.sum'], { env: env(), cwd: work });
      ok(noHash);
      assert.equal(core.readKey(checkContract('key', oneObject(noHash))), `deps-${a.hash}.v1`, '-<hash> goes before the extension');
    }],
    ['save: {key, scope, saved, skippedReason, size, files, uncompressedSize, seconds}', async () => {
      const result = await run(['save', '--key', 'ct-key-1', '--path', 'deps', '--scope', 'refs/heads/main']);
      ok(result);
      const json = checkContract('save', oneObject(result));
      const r = core.readSave(json);
      assert.equal(r.saved, true);
      assert.ok(r.size > 0 && r.files === 2 && r.uncompressedSize >= 10006, JSON.stringify(json));
      saved.size = r.size;
    }],
    ['save of an existing key: saved false, skippedReason "exists"', async () => {
      const result = await run(['save', '--key', 'ct-key-1', '--path', 'deps', '--scope', 'refs/heads/main']);
      ok(result);
      const json = checkContract('save', oneObject(result));
      assert.deepEqual([json.saved, json.skippedReason], [false, 'exists']);
    }],
    ['restore, exact hit: miss is null and size is the stored size', async () => {
      fs.rmSync(path.join(work, 'deps'), { recursive: true, force: true });
      const result = await run(['restore', '--key', 'ct-key-1', '--path', 'deps', '--scope', 'refs/heads/main']);
      ok(result);
      const json = checkContract('restore', oneObject(result));
      assert.equal(json.miss, null);
      assert.deepEqual(core.readRestore(json), { matchedKey: 'ct-key-1', exactMatch: true, matchedScope: 'refs/heads/main', size: saved.size, miss: null });
      assert.equal(fs.readFileSync(path.join(work, 'deps', 'a.txt'), 'utf8'), 'alpha\n');
    }],
    ['restore, restore-key hit with lookup-only: inexact, nothing restored', async () => {
      const result = await run(['restore', '--key', 'ct-key-2', '--restore-key', 'ct-key-', '--path', 'deps', '--scope', 'refs/pull/1/merge', '--fallback-scope', 'refs/heads/main', '--lookup-only']);
      ok(result);
      const json = checkContract('restore', oneObject(result));
      assert.deepEqual([json.matchedKey, json.exactMatch, json.lookupOnly, json.restored, json.miss], ['ct-key-1', false, true, false, null]);
      assert.equal(core.readRestore(json).size, saved.size);
    }],
    ['restore, miss: miss = {summary, reasons[], nearest[{scope, key, paths, lastModified, differences}]}', async () => {
      const result = await run(['restore', '--key', 'ct-key-1', '--restore-key', 'ct-nothing-', '--path', 'other-dir', '--scope', 'refs/heads/main']);
      ok(result);
      const json = checkContract('restore', oneObject(result));
      assert.equal(json.matchedKey, null);
      assert.ok(json.miss, 'a miss explains itself');
      assert.ok(json.miss.summary.trim(), 'a one-line summary');
      assert.doesNotMatch(json.miss.summary, /\n/);
      assert.ok(json.miss.reasons.length >= 1 && json.miss.reasons.every((r) => r.trim()), 'at least one reason');
      const same = json.miss.nearest.find((e) => e.key === 'ct-key-1');
      assert.ok(same, `the entry with the same key and other paths is among the nearest: ${JSON.stringify(json.miss.nearest)}`);
      assert.equal(same.scope, 'refs/heads/main');
      assert.ok(same.differences.length >= 1, 'and what differs is said');
      const why = core.readRestore(json).miss;
      assert.deepEqual(why, { summary: json.miss.summary, reasons: json.miss.reasons });
    }],
    ['error: {error, exitCode} with the process exit code', async () => {
      const result = s3
        ? await core.runS3pod(binary, ['restore', '--key', 'k', '--path', 'deps', '--endpoint', 'http://127.0.0.1:9', '--bucket', s3.bucket], { env: env(), cwd: (await ready(), work) })
        : await run(['restore', '--key', 'k', '--path', 'deps'], failEnv);
      assert.equal(result.exitCode, 2, result.stderr);
      const json = checkContract('error', oneObject(result));
      assert.equal(json.exitCode, 2);
      assert.equal(core.errorLine(result), json.error);
    }],
  ].map(([name, fn]) => ({ name, skip, run: fn }));

  const imageKey = 'ct-image-1';
  const dockerCases = [
    ['save --docker-image: a save result naming the image and its ID', async () => {
      await ready();
      image = `s3pod-contract/${runId}:1`;
      if (realDocker) assert.equal(docker('tag', process.env.S3POD_TEST_DOCKER_IMAGE, image).status, 0);
      const result = await run(['save', '--key', imageKey, '--docker-image', image, '--scope', 'refs/heads/main']);
      ok(result);
      const json = checkContract('save', oneObject(result));
      assert.equal(core.readSave(json).saved, true);
      assert.ok(json.size > 0, `size ${json.size}`);
      assert.equal(json.image, image);
      assert.match(json.imageId, /^sha256:[0-9a-f]{64}$/);
      saved.imageSize = json.size;
      saved.imageId = json.imageId;
    }],
    ['save --docker-image again: skipped "exists"; with --update and the same image: skipped "unchanged"', async () => {
      const again = await run(['save', '--key', imageKey, '--docker-image', image, '--scope', 'refs/heads/main']);
      ok(again);
      const a = checkContract('save', oneObject(again));
      assert.deepEqual([a.saved, a.skippedReason], [false, 'exists']);
      const update = await run(['save', '--key', imageKey, '--docker-image', image, '--scope', 'refs/heads/main', '--update']);
      ok(update);
      const u = checkContract('save', oneObject(update));
      assert.deepEqual([u.saved, u.skippedReason, u.imageId], [false, 'unchanged', saved.imageId]);
    }],
    ['restore --docker-image by restore key, lookup-only then for real: the image is loaded, size is the stored size', async () => {
      if (realDocker) assert.equal(docker('rmi', image).status, 0);
      const args = ['restore', '--key', 'ct-image-2', '--restore-key', 'ct-image-', '--docker-image', image, '--scope', 'refs/pull/1/merge', '--fallback-scope', 'refs/heads/main'];
      const lookup = await run([...args, '--lookup-only']);
      ok(lookup);
      const l = checkContract('restore', oneObject(lookup));
      assert.deepEqual([l.matchedKey, l.exactMatch, l.lookupOnly, l.restored], [imageKey, false, true, false]);
      if (realDocker) assert.notEqual(docker('image', 'inspect', image).status, 0, 'lookup-only loads nothing');
      const result = await run(args);
      ok(result);
      const json = checkContract('restore', oneObject(result));
      assert.deepEqual(core.readRestore(json), { matchedKey: imageKey, exactMatch: false, matchedScope: 'refs/heads/main', size: saved.imageSize, miss: null });
      assert.deepEqual([json.restored, json.image, json.imageId], [true, image, saved.imageId]);
      if (realDocker) assert.equal(docker('image', 'inspect', image).status, 0, 'docker load restored the tag');
    }],
    ['restore --docker-image of another image: a miss whose nearest entry names the image saved', async () => {
      const result = await run(['restore', '--key', imageKey, '--docker-image', 'absent/image:1', '--scope', 'refs/heads/main']);
      ok(result);
      const json = checkContract('restore', oneObject(result));
      assert.equal(json.matchedKey, null);
      const same = json.miss.nearest.find((e) => e.key === imageKey);
      assert.ok(same, `the entry with the same key is among the nearest: ${JSON.stringify(json.miss.nearest)}`);
      assert.deepEqual([same.image, same.paths], [image, null]);
      if (realDocker) docker('rmi', image);
    }],
  ].map(([name, fn]) => ({ name, skip: dockerSkip, run: fn }));

  // The artifact flow's commands, in order: push (file), stage + publish, alias set / list, pick, pull.
  const artifactCases = [
    ['artifact push: the push result; readPush reads it', async () => {
      const result = await run(['artifact', 'push', 'ct/app', 'go.sum', '--meta', 'k=v']);
      ok(result);
      const r = core.readPush(checkContract('push', oneObject(result)));
      assert.deepEqual([r.name, r.version, r.kind, r.uploaded, r.published], ['ct/app', '1', 'file', true, true]);
      assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
      saved.pushDigest = r.digest;
    }],
    ['artifact stage + publish --if-changed: stage result, then a push result with published false for the same content', async () => {
      const staged = await run(['artifact', 'stage', 'ct/app', 'go.sum']);
      ok(staged);
      assert.equal(core.readStage(checkContract('stage', oneObject(staged))).digest, saved.pushDigest);
      const published = await run(['artifact', 'publish', 'ct/app', '--if-changed']);
      ok(published);
      const r = core.readPush(checkContract('push', oneObject(published)));
      assert.deepEqual([r.version, r.published], ['1', false]);
    }],
    ['artifact alias set / alias list / pick: previousVersion, previous, picked', async () => {
      const first = await run(['artifact', 'alias', 'set', 'ct/app', 'live', '1']);
      ok(first);
      assert.deepEqual(core.readAlias(checkContract('aliasSet', oneObject(first))), { alias: 'live', version: '1', secondary: null, weight: 0, previousVersion: null, changed: true });
      fs.writeFileSync(path.join(work, 'v2.txt'), 'two');
      ok(await run(['artifact', 'push', 'ct/app', 'v2.txt']));
      const canary = await run(['artifact', 'alias', 'set', 'ct/app', 'live', '2', '--secondary', '1', '--weight', '100', '--expect', '1']);
      ok(canary);
      assert.deepEqual(core.readAlias(checkContract('aliasSet', oneObject(canary))), { alias: 'live', version: '2', secondary: '1', weight: 100, previousVersion: '1', changed: true });
      const list = await run(['artifact', 'alias', 'list', 'ct/app']);
      ok(list);
      assert.deepEqual(core.readAliasList(checkContract('aliasList', oneObject(list))), [{ alias: 'live', version: '2', secondary: '1', weight: 100, previous: '1' }]);
      const pick = await run(['artifact', 'pick', 'ct/app', 'live']);
      ok(pick);
      assert.deepEqual(core.readPick(checkContract('pick', oneObject(pick))).version, '1', 'weight 100 always picks the secondary');
      const conflict = await run(['artifact', 'alias', 'set', 'ct/app', 'live', '1', '--expect', '1']);
      assert.equal(conflict.exitCode, 4, conflict.stderr);
      checkContract('error', oneObject(conflict));
    }],
    ['artifact pull by alias: the pull result; readPull reads it', async () => {
      const result = await run(['artifact', 'pull', 'ct/app:live', '--output', path.join(work, 'pulled.txt')]);
      ok(result);
      const r = core.readPull(checkContract('pull', oneObject(result)));
      assert.deepEqual([r.version, r.resolvedBy, r.path], ['2', 'alias', path.join(work, 'pulled.txt')]);
      assert.equal(fs.readFileSync(r.path, 'utf8'), 'two');
    }],
  ].map(([name, fn]) => ({ name, skip: skip || (artifacts ? false : 'the stub binary has no artifact commands'), run: fn }));

  // The assets flow's commands. The real binary pins what `asset add` pushed; the stub any version.
  const assetCases = [
    ['asset sync: {manifest, assetsDir, entries[...], downloaded, present, failed[]}; the second sync downloads nothing', async () => {
      await ready();
      const manifest = path.join(work, 'assets.json');
      if (artifacts) ok(await run(['asset', 'add', '/ct/model.bin', 'go.sum', '--manifest', manifest]));
      else fs.writeFileSync(manifest, JSON.stringify({ assets: { '/ct/model.bin': '1.0.0' } }));
      const dir = path.join(work, 'assets-dir');
      const first = await run(['asset', 'sync', '--manifest', manifest, '--assets-dir', dir]);
      ok(first);
      const a = core.readSync(checkContract('sync', oneObject(first)));
      assert.deepEqual([a.downloaded, a.present, a.failed.length, a.entries.length], [1, 0, 0, 1]);
      assert.deepEqual([a.entries[0].path, a.entries[0].version, a.entries[0].downloaded], ['/ct/model.bin', '1.0.0', true]);
      assert.ok(fs.existsSync(a.entries[0].local), a.entries[0].local);
      const second = await run(['asset', 'sync', '--manifest', manifest, '--assets-dir', dir]);
      ok(second);
      const b = core.readSync(checkContract('sync', oneObject(second)));
      assert.deepEqual([b.downloaded, b.present], [0, 1]);
    }],
    ['asset check: ok, or exit 1 with problems [{path, name, problem: "override", detail}]', async () => {
      await ready();
      const manifest = path.join(work, 'override.json');
      fs.writeFileSync(manifest, JSON.stringify({ assets: { 'dev/x': './go.sum' } }));
      const result = await run(['asset', 'check', '--manifest', manifest]);
      assert.equal(result.exitCode, 1, result.stderr);
      const r = core.readCheck(checkContract('check', oneObject(result)));
      assert.equal(r.ok, false);
      assert.deepEqual(r.problems.map((p) => [p.path, p.problem]), [['dev/x', 'override']]);
      fs.writeFileSync(manifest, JSON.stringify({ assets: {} }));
      const clean = await run(['asset', 'check', '--manifest', manifest]);
      ok(clean);
      assert.equal(core.readCheck(checkContract('check', oneObject(clean))).ok, true);
    }],
  ].map(([name, fn]) => ({ name, skip, run: fn }));

  return [...cases, ...dockerCases, ...artifactCases, ...assetCases];
}

module.exports = { SCHEMAS, checkContract, contractCases, dockerAvailable };
