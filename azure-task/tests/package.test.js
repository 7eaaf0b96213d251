'use strict';
// `npm run package` end to end: esbuild bundles (the shared core and task-lib inlined), tfx
// extension create (offline), and the .vsix holds a task that works as the agent runs it: the
// package is unzipped and its entry points run a whole job against the real binary and S3.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { builtinModules } = require('module');
const { packageExtension } = require('../scripts/package');
const { CONNECTION_INPUT } = require('../shared/secrets');
const { zipEntries, extractZip } = require('./e2e/zip');
const { createJob, readTree } = require('./e2e/harness');
const { s3Config, ensureBucket } = require('./e2e/s3');

test('versions agree: task.json, vss-extension.json, the pinned binary', () => {
  const task = require('../S3PodV1/task.json');
  const ext = require('../vss-extension.json');
  const sums = require('../../action/src/core/release-sums.json');
  const v = `${task.version.Major}.${task.version.Minor}.${task.version.Patch}`;
  assert.equal(ext.version, v);
  assert.equal(sums.version.split('.')[0], String(task.version.Major));
  assert.equal(task.name, 'S3Pod');
  assert.match(task.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(Object.keys(task.execution), ['Node20_1', 'Node24']);
  assert.deepEqual(Object.keys(task.postjobexecution), ['Node20_1', 'Node24']);
  for (const input of task.inputs) assert.match(input.name, /^[a-z][A-Za-z0-9]*$/, 'camelCase input names');
  for (const name of ['key', 'path', 'restoreKeys', 'cacheHitVar', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'scope', 'readOnly', 'failOnCacheMiss', 'lookupOnly', 'save', 'compressionLevel', 'binary', 'dockerImage']) {
    assert.ok(task.inputs.some((i) => i.name === name), name);
  }
  assert.deepEqual(task.inputs.find((i) => i.name === 'readOnly').defaultValue, 'auto');
  assert.deepEqual(task.outputVariables.map((o) => o.name), ['cacheHit', 'primaryKey', 'matchedKey', 'cacheSize']);
  assert.deepEqual(ext.contributions[0].properties, { name: 'S3PodV1' });
  // One extension, three tasks: each contributed and shipped, each with its own id.
  const { TASKS } = require('../scripts/package');
  const taskContributions = ext.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task');
  assert.deepEqual(taskContributions.map((c) => c.properties.name), Object.keys(TASKS));
  assert.deepEqual(ext.files.map((f) => f.path), Object.keys(TASKS));
  const ids = new Set();
  for (const folder of Object.keys(TASKS)) {
    const t = require(`../${folder}/task.json`);
    assert.equal(`${t.version.Major}.${t.version.Minor}.${t.version.Patch}`, v, folder);
    assert.equal(`${t.name}V${t.version.Major}`, folder);
    ids.add(t.id);
    for (const input of t.inputs) assert.match(input.name, /^[a-z][A-Za-z0-9]*$/, `${folder}: camelCase input names`);
    assert.deepEqual(Object.keys(t.execution), ['Node20_1', 'Node24']);
  }
  assert.equal(ids.size, 3, 'distinct task ids');
});

test('S3PodArtifact@1 and S3PodAssets@1: task.json inputs and outputs are exactly the ones the host reads and writes', () => {
  const names = require('../shared/names');
  const artifact = require('../S3PodArtifactV1/task.json');
  assert.deepEqual(artifact.inputs.map((i) => i.name).sort(), [...Object.values(names.ArtifactInputNames), ...Object.values(names.ArtifactTaskInputs), CONNECTION_INPUT].sort());
  assert.deepEqual(artifact.outputVariables.map((o) => o.name).sort(), Object.values(names.ArtifactOutputNames).sort());
  for (const n of ['command', 'name', 'path', 'version', 'bump', 'alias', 'secondary', 'weight', 'expect', 'meta', 'versionVar', 'digestVar']) {
    assert.ok(artifact.inputs.some((i) => i.name === n), n);
  }
  const assets = require('../S3PodAssetsV1/task.json');
  assert.deepEqual(assets.inputs.map((i) => i.name).sort(), [...Object.values(names.AssetInputNames), CONNECTION_INPUT].sort());
  assert.deepEqual(assets.outputVariables.map((o) => o.name), ['assetsDir']);
  assert.equal(assets.inputs.find((i) => i.name === 'manifest').defaultValue, 's3pod.assets.json');
});

test('the task.json inputs are exactly the ones the Azure host reads', () => {
  const task = require('../S3PodV1/task.json');
  const { InputNames, TaskInputs } = require('../shared/names');
  assert.deepEqual(task.inputs.map((i) => i.name).sort(), [...Object.values(InputNames), ...Object.values(TaskInputs), CONNECTION_INPUT].sort());
});

test('the service connection type: UsernamePassword (basic), the URL is the endpoint, region/bucket/prefix optional; every task takes it', () => {
  const ext = require('../vss-extension.json');
  const endpoint = ext.contributions.find((c) => c.type === 'ms.vss-endpoint.service-endpoint-type');
  assert.ok(endpoint, 'an endpoint type is contributed');
  assert.equal(endpoint.properties.displayName, 'S3-compatible storage (s3pod)');
  const [scheme] = endpoint.properties.authenticationSchemes;
  assert.equal(scheme.type, 'ms.vss-endpoint.endpoint-auth-scheme-basic');
  assert.deepEqual(scheme.inputDescriptors.map((d) => [d.id, d.isConfidential]), [['username', false], ['password', true]]);
  assert.deepEqual(endpoint.properties.inputDescriptors.map((d) => [d.id, d.validation.isRequired]), [['region', false], ['bucket', false], ['prefix', false]]);
  const { TASKS } = require('../scripts/package');
  for (const folder of Object.keys(TASKS)) {
    const t = require(`../${folder}/task.json`);
    const input = t.inputs.find((i) => i.name === CONNECTION_INPUT);
    assert.equal(input?.type, `connectedService:${endpoint.properties.name}`, folder);
    for (const old of ['accessKeyId', 'secretAccessKey']) assert.match(t.inputs.find((i) => i.name === old).helpMarkDown, /^Deprecated: use the S3 connection/, `${folder} ${old}`);
  }
});

test('restricted command mode: declared by every task; variables limited where their names are fixed', () => {
  const { TASKS } = require('../scripts/package');
  for (const folder of Object.keys(TASKS)) {
    const t = require(`../${folder}/task.json`);
    assert.deepEqual(t.restrictions.commands, { mode: 'restricted' }, folder);
  }
  // S3Pod@1 (cacheHitVar) and S3PodArtifact@1 (versionVar, digestVar) set variables the user names.
  const assets = require('../S3PodAssetsV1/task.json');
  assert.deepEqual(assets.restrictions.settableVariables.allowed.sort(), ['S3POD_ASSETS_DIR', 'assetsDir']);
});

const binary = process.env.S3POD_TEST_BINARY ? path.resolve(process.env.S3POD_TEST_BINARY) : '';
const s3 = s3Config();
const realSkip = !binary || !fs.existsSync(binary)
  ? 'S3POD_TEST_BINARY is not set or missing (build the binary with ./publish-aot.sh; .ci/run sets it)'
  : !s3 ? 'S3POD_TEST_S3_ENDPOINT/KEY_ID/SECRET are not set (start tests/servers/ceph-rgw.sh)' : false;

let packaged;
/** Packages once (npm run package into a temp directory) and unzips the .vsix; both tests use it. */
async function vsixTask() {
  packaged ||= (async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-vsix-'));
    process.once('exit', () => fs.rmSync(out, { recursive: true, force: true }));
    const vsix = await packageExtension(out);
    const unpacked = path.join(out, 'unpacked');
    extractZip(vsix, unpacked);
    return { out, vsix, taskDir: path.join(unpacked, 'S3PodV1') };
  })();
  return packaged;
}

test('npm run package writes a .vsix holding task.json and two self-contained entry points', async () => {
  const { out, vsix, taskDir } = await vsixTask();
  assert.equal(path.basename(vsix), `s3pod.s3pod-${require('../vss-extension.json').version}.vsix`);
  const names = zipEntries(vsix);
  for (const n of ['extension.vsixmanifest', 'S3PodV1/task.json', 'S3PodV1/main.js', 'S3PodV1/post.js',
    'S3PodArtifactV1/task.json', 'S3PodArtifactV1/main.js', 'S3PodAssetsV1/task.json', 'S3PodAssetsV1/main.js']) assert.ok(names.includes(n), `${n} in ${names}`);
  for (const extra of ['S3PodArtifactV1/main.js', 'S3PodAssetsV1/main.js']) {
    const src = fs.readFileSync(path.join(path.dirname(taskDir), extra), 'utf8');
    const outside = [...src.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1].replace(/^node:/, '')).filter((n) => !builtinModules.includes(n));
    assert.deepEqual(outside, [], `${extra} is self-contained`);
  }
  assert.ok(!names.some((n) => n.includes('node_modules')), 'no node_modules: the entries are bundled');
  for (const entry of ['main.js', 'post.js']) {
    const src = fs.readFileSync(path.join(taskDir, entry), 'utf8');
    const required = [...src.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1].replace(/^node:/, ''));
    const outside = required.filter((name) => !builtinModules.includes(name));
    assert.deepEqual(outside, [], `${entry} requires only Node built-ins (task-lib, minimatch and the shared core are inlined)`);
  }
  // What the package holds runs from a directory with nothing else in it.
  const bare = spawnSync(process.execPath, [path.join(taskDir, 'post.js')], { cwd: os.tmpdir(), env: { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: out }, encoding: 'utf8' });
  assert.match(bare.stdout, /Not saving: the restore step did not complete/, bare.stdout + bare.stderr);
});

test('the task in the .vsix runs a whole job: miss, post-job save, then an exact hit', { skip: realSkip }, async () => {
  const { out, taskDir } = await vsixTask();
  await ensureBucket(s3);
  const prefix = `vsix-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
  const inputs = {
    key: 'vsix | "k" | lock.txt', path: 'deps', cacheHitVar: 'HIT',
    endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, prefix, accessKeyId: s3.keyId, secretAccessKey: s3.secret, binary,
  };
  const job = (files) => {
    const dir = fs.mkdtempSync(path.join(out, 'work-'));
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    const agent = createJob({ taskDir, workdir: dir });
    try {
      const main = agent.runStep('main', { inputs });
      const post = agent.runStep('post', { inputs, taskVariables: main.taskVariables });
      return { dir, main, post };
    } finally {
      agent.cleanup();
    }
  };
  const first = job({ 'lock.txt': 'v1', 'deps/a.txt': 'alpha' });
  assert.equal(first.main.result, 'Succeeded', first.main.log());
  assert.equal(first.main.variables.HIT, 'false', first.main.log());
  assert.equal(first.post.result, 'Succeeded', first.post.log());
  assert.match(first.post.stdout, /Cache saved with key vsix\/k\/[0-9a-f]{64}/, first.post.log());
  const second = job({ 'lock.txt': 'v1' });
  assert.equal(second.main.variables.HIT, 'true', second.main.log());
  assert.equal(second.main.variables.cacheHit, 'true', second.main.log());
  assert.deepEqual(readTree(path.join(second.dir, 'deps')), { 'a.txt': 'alpha' });
  assert.match(second.post.stdout, /Not saving: cache hit occurred on the primary key/, second.post.log());
});
