'use strict';
// MockTestRunner suite: each case runs one scenario file (tests/scenarios/L0*.js) in a child
// Node process with the mocked task-lib, against the wrappers' shared stub binary
// (action/__tests__/fixtures/stub-s3pod.cjs).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { MockTestRunner } = require('azure-pipelines-task-lib/mock-test');

const TASK_JSON = path.join(__dirname, '..', 'S3PodV1', 'task.json');
const PACKAGE_LOCK = '{"lockfileVersion":3}\n';
let tmp;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-l0-'));
  // task-lib writes its vault key (.taskkey) to Agent.TempDirectory, else to the working directory.
  process.env.AGENT_TEMPDIRECTORY = tmp;
  process.env.S3POD_L0_WORKDIR = path.join(tmp, 'work');
  process.env.S3POD_L0_STORE = path.join(tmp, 'store');
  fs.mkdirSync(process.env.S3POD_L0_WORKDIR);
  fs.writeFileSync(path.join(process.env.S3POD_L0_WORKDIR, 'yarn.lock'), 'lock v1\n');
  fs.writeFileSync(path.join(process.env.S3POD_L0_WORKDIR, 'package-lock.json'), PACKAGE_LOCK);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * The logging commands the agent runs for a task in restricted mode (task.json's
 * "restrictions": {"commands": {"mode": "restricted"}}): the ones azure-pipelines-agent marks
 * [CommandRestriction(AllowedInRestrictedMode = true)]. Any other is dropped with a warning, so
 * every scenario checks that the task wrote none (task.issue is task-lib's spelling of logissue).
 */
const RESTRICTED_MODE_COMMANDS = new Set(['task.logdetail', 'task.logissue', 'task.issue', 'task.complete', 'task.setprogress',
  'task.setsecret', 'task.setvariable', 'task.debug', 'task.settaskvariable', 'task.prependpath']);

function assertRestrictedMode(tr, taskJson, explain) {
  const commands = [...tr.stdout.matchAll(/^##vso\[([a-z]+\.[a-z]+)([^\]]*)\]/gim)];
  for (const [, command] of commands) assert.ok(RESTRICTED_MODE_COMMANDS.has(command.toLowerCase()), `${command} is refused in restricted mode\n${explain()}`);
  const allowed = taskJson.restrictions?.settableVariables?.allowed;
  if (!allowed) return;
  for (const [, command, props] of commands) {
    if (command !== 'task.setvariable') continue;
    const name = /variable=([^;]*)/.exec(props)[1];
    assert.ok(allowed.includes(name), `variable ${name} is not in settableVariables.allowed\n${explain()}`);
  }
}

async function run(name, taskJsonPath = TASK_JSON) {
  const log = path.join(tmp, `${name}.log`);
  process.env.S3POD_L0_LOG = log;
  const tr = new MockTestRunner(path.join(__dirname, 'scenarios', `${name}.js`), taskJsonPath);
  tr.nodePath = process.execPath; // never download Node
  await tr.runAsync();
  const calls = fs.existsSync(log)
    ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
  const call = (cmd) => calls.find((c) => c.args[0] === cmd);
  const explain = () => `stdout:\n${tr.stdout}\nstderr:\n${tr.stderr}`;
  assertRestrictedMode(tr, JSON.parse(fs.readFileSync(taskJsonPath, 'utf8')), explain);
  return { tr, calls, call, explain };
}

/** Values of a repeated flag in an argv list. */
function flag(args, name) {
  const out = [];
  for (let i = 0; i < args.length; i++) if (args[i] === name) out.push(args[i + 1]);
  return out;
}

const setVar = (tr, name, value) => tr.stdout.includes(`##vso[task.setvariable variable=${name};isOutput=false;issecret=false;]${value}\n`);
const setTaskVar = (tr, name, value) => tr.stdout.includes(`##vso[task.settaskvariable variable=${name};issecret=false;]${value}`);
const setOutputVar = (tr, name, value) => tr.stdout.includes(`##vso[task.setvariable variable=${name};isOutput=true;issecret=false;]${value}\n`);
/** The stub's digest of one file: its SHA-256, cut to 16 hex digits as `s3pod key` does. */
const stubHash = (content) => crypto.createHash('sha256').update(content).digest('hex').slice(0, 16);

test('miss: cacheHitVar=false, state recorded for the post-job step, branch scope', async () => {
  const { tr, call, explain } = await run('L0RestoreMiss');
  assert.ok(tr.succeeded, explain());
  assert.ok(setVar(tr, 'CACHE_HIT', 'false'), explain());
  assert.ok(setTaskVar(tr, 'RESTORE_STEP_RAN', 'true'), explain());
  assert.ok(setTaskVar(tr, 'S3POD_PRIMARY_KEY', 'npm/Linux'), explain());
  const args = call('restore').args;
  assert.deepEqual(flag(args, '--key'), ['npm/Linux']);
  assert.deepEqual(flag(args, '--path'), ['node_modules']);
  assert.deepEqual(flag(args, '--scope'), ['refs/heads/main']);
  assert.deepEqual(flag(args, '--fallback-scope'), []);
  assert.ok(args.includes('--json'));
  assert.ok(!args.includes('--lookup-only'));
  assert.ok(tr.stdout.includes('Cache not found for input keys: npm/Linux\n'), explain());
});

test('miss: the binary\'s reasons are printed, one console line each', async () => {
  const { tr, explain } = await run('L0RestoreMiss');
  const lines = tr.stdout.split('\n');
  const at = lines.indexOf('Cache not found for input keys: npm/Linux');
  assert.ok(at >= 0, explain());
  assert.deepEqual(lines.slice(at + 1, at + 3), [
    'Why: no cache entry matches key npm/Linux in scopes refs/heads/main',
    '  - no entry has key npm/Linux in any scope',
  ], explain());
});

test('outputs are output variables: cacheHit, primaryKey, matchedKey, cacheSize', async () => {
  const hit = await run('L0RestoreExactHit');
  assert.ok(setOutputVar(hit.tr, 'cacheHit', 'true'), hit.explain());
  assert.ok(setOutputVar(hit.tr, 'primaryKey', 'npm/Linux'), hit.explain());
  assert.ok(setOutputVar(hit.tr, 'matchedKey', 'npm/Linux'), hit.explain());
  assert.ok(setOutputVar(hit.tr, 'cacheSize', '123'), hit.explain());
  const miss = await run('L0RestoreMiss');
  assert.ok(setOutputVar(miss.tr, 'cacheHit', 'false'), miss.explain());
  assert.ok(setOutputVar(miss.tr, 'matchedKey', ''), miss.explain());
  assert.ok(setOutputVar(miss.tr, 'cacheSize', ''), miss.explain());
});

test('the restore logs a markdown summary in a collapsible group (restricted mode refuses task.uploadsummary)', async () => {
  const { tr, explain } = await run('L0RestoreExactHit');
  const m = /^##\[group\]s3pod summary\n([\s\S]*?)^##\[endgroup\]$/m.exec(tr.stdout);
  assert.ok(m, explain());
  assert.match(m[1], /### s3pod cache restore[\s\S]*\| Result \| exact hit \|/);
  assert.ok(!tr.stdout.includes('task.uploadsummary'), explain());
});

test('exact hit: cacheHitVar=true and the exact match is recorded', async () => {
  const { tr, explain } = await run('L0RestoreExactHit');
  assert.ok(tr.succeeded, explain());
  assert.ok(setVar(tr, 'CACHE_HIT', 'true'), explain());
  assert.ok(setTaskVar(tr, 'S3POD_EXACT_MATCH', 'true'), explain());
});

test('restore-key hit: cacheHitVar=inexact; restore keys become segment prefixes', async () => {
  const { tr, call, explain } = await run('L0RestoreInexactHit');
  assert.ok(tr.succeeded, explain());
  assert.ok(setVar(tr, 'CACHE_HIT', 'inexact'), explain());
  assert.ok(setTaskVar(tr, 'S3POD_MATCHED_KEY', 'npm/Linux/v1'), explain());
  assert.deepEqual(flag(call('restore').args, '--restore-key'), ['npm/Linux/', 'npm/']);
});

test('pull request: writes refs/pull/N/merge, also reads the target branch', async () => {
  const { tr, call, explain } = await run('L0RestorePullRequest');
  assert.ok(tr.succeeded, explain());
  const args = call('restore').args;
  assert.deepEqual(flag(args, '--scope'), ['refs/pull/7/merge']);
  assert.deepEqual(flag(args, '--fallback-scope'), ['refs/heads/main']);
  assert.ok(setTaskVar(tr, 'S3POD_SCOPE', 'refs/pull/7/merge'), explain());
});

test('scope: none passes no scope', async () => {
  const { tr, call, explain } = await run('L0RestoreScopeNone');
  assert.ok(tr.succeeded, explain());
  assert.deepEqual(flag(call('restore').args, '--scope'), []);
});

test('Cache@2 file segment is replaced by the fingerprint of the file', async () => {
  const { tr, call, explain } = await run('L0RestoreFileSegment');
  assert.ok(tr.succeeded, explain());
  const content = Buffer.from('lock v1\n');
  const fileHash = crypto.createHash('sha256').update(content).digest('hex');
  const fp = crypto.createHash('sha256').update(`\nSHA256(yarn.lock)=[${content.length}]${fileHash}`).digest('hex');
  assert.deepEqual(flag(call('restore').args, '--key'), [`yarn/Linux/${fp}`]);
  assert.equal(call('restore').cwd, process.env.S3POD_L0_WORKDIR);
});

test('s3pod template: {hash} resolved by `s3pod key --hash-from`, restore keys verbatim', async () => {
  const { tr, call, explain } = await run('L0RestoreTemplate');
  assert.ok(tr.succeeded, explain());
  assert.deepEqual(call('key').args.slice(0, 4), ['key', 'npm-{hash}', '--hash-from', 'package-lock.json']);
  const args = call('restore').args;
  assert.deepEqual(flag(args, '--key'), [`npm-${stubHash(PACKAGE_LOCK)}`]);
  assert.deepEqual(flag(args, '--restore-key'), ['npm-']);
  assert.ok(tr.stdout.includes(`Key resolved to: npm-${stubHash(PACKAGE_LOCK)} (template npm-{hash}, hashFiles package-lock.json)`), explain());
});

test('s3pod template without {hash}: -<hash> goes before the extension, as `s3pod key` puts it', async () => {
  const { tr, call, explain } = await run('L0RestoreTemplateNoHash');
  assert.ok(tr.succeeded, explain());
  assert.deepEqual(call('key').args.slice(0, 2), ['key', 'deps.v1'], 'the template is passed as written');
  assert.deepEqual(flag(call('restore').args, '--key'), [`deps-${stubHash(PACKAGE_LOCK)}.v1`]);
});

test('lookupOnly passes --lookup-only and still reports the hit', async () => {
  const { tr, call, explain } = await run('L0RestoreLookupOnly');
  assert.ok(tr.succeeded, explain());
  assert.ok(call('restore').args.includes('--lookup-only'));
  assert.ok(setVar(tr, 'CACHE_HIT', 'true'), explain());
});

test('storage error on restore is a warning; the build goes on as a miss', async () => {
  const { tr, explain } = await run('L0RestoreStorageError');
  assert.ok(tr.succeeded, explain());
  assert.equal(tr.warningIssues.length, 1, explain());
  assert.equal(tr.warningIssues[0], 'Failed to restore cache (storage error): cannot reach http://127.0.0.1:1 (connection refused)');
  assert.ok(setVar(tr, 'CACHE_HIT', 'false'), explain());
  assert.ok(setTaskVar(tr, 'RESTORE_STEP_RAN', 'true'), explain());
});

test('failOnCacheMiss: a miss fails the step', async () => {
  const { tr, explain } = await run('L0RestoreFailOnMiss');
  assert.ok(tr.failed, explain());
  assert.match(tr.errorIssues.join('\n'), /Exiting as failOnCacheMiss is set\. Input key: npm/);
  assert.ok(setVar(tr, 'CACHE_HIT', 'false'), explain());
});

test('integrity failure (exit 5) is a warning naming the cause; nothing restored, job goes on', async () => {
  const { tr, explain } = await run('L0RestoreIntegrity');
  assert.ok(tr.succeeded, explain());
  assert.match(tr.warningIssues.join('\n'), /integrity check failed\): digest mismatch for npm/);
});

// (Under MockTestRunner task-lib loads before the entry point, so the "registered before any
// debug line" order is checked by the end-to-end test, which runs the real entry point.)
test('credentials: registered as secrets, given to the binary in env, never in args or INPUT_*', async () => {
  const { tr, call, explain } = await run('L0RestoreSecrets');
  assert.ok(tr.succeeded, explain());
  assert.ok(tr.stdout.includes('##vso[task.setsecret]sEcReT-L0-value'), explain());
  assert.ok(tr.stdout.includes('##vso[task.setsecret]AKIDL0TEST'), explain());
  const c = call('restore');
  assert.equal(c.secret, 'sEcReT-L0-value');
  assert.equal(c.keyId, 'AKIDL0TEST');
  assert.ok(!c.args.join(' ').includes('sEcReT'));
  assert.deepEqual(c.inputEnv, []);
  assert.deepEqual(flag(c.args, '--endpoint'), ['http://127.0.0.1:9']);
});

test('logging commands in the binary output are neutralised', async () => {
  const { tr, explain } = await run('L0RestoreMaliciousOutput');
  assert.ok(tr.succeeded, explain());
  assert.ok(!/##vso\[task\.setvariable variable=PWNED/.test(tr.stdout), explain());
  assert.ok(tr.stdout.includes('restoring ##'), explain());
});

for (const [name, input] of [
  ['L0BadInputSave', 'save'],
  ['L0BadInputCompressionLevel', 'compressionLevel'],
  ['L0BadInputHalfCredentials', 'secretAccessKey'],
  ['L0BadInputEndpoint', 'endpoint'],
  ['L0BadInputBoolean', 'failOnCacheMiss'],
  ['L0BadInputNoPath', 'path'],
  ['L0BadInputCacheHitVar', 'cacheHitVar'],
  ['L0BadKeyNoFiles', 'key'],
  ['L0BadKeyTemplateWithoutFiles', 'hashFiles'],
]) {
  test(`bad input fails naming "${input}" (${name})`, async () => {
    const { tr, calls, explain } = await run(name);
    assert.ok(tr.failed, explain());
    assert.equal(tr.errorIssues.length, 1, explain());
    assert.match(tr.errorIssues[0], new RegExp(`\\b${input}\\b`), explain());
    assert.ok(!/-(access|secret|key-id|hash-files|compression|fail-on)/.test(tr.errorIssues[0]), 'names the task.json input');
    assert.ok(!calls.some((c) => c.args[0] === 'restore'), 'nothing restored');
    assert.ok(!setTaskVar(tr, 'RESTORE_STEP_RAN', 'true'), 'post-job will not save');
  });
}

test('post: saves on a miss with the recorded key, paths, scope and level', async () => {
  const { tr, call, explain } = await run('L0PostSavesOnMiss');
  assert.ok(tr.succeeded, explain());
  const args = call('save').args;
  assert.deepEqual(flag(args, '--key'), ['npm']);
  assert.deepEqual(flag(args, '--path'), ['node_modules', '!node_modules/.bin']);
  assert.deepEqual(flag(args, '--scope'), ['refs/heads/main']);
  assert.deepEqual(flag(args, '--level'), ['5']);
  assert.ok(tr.stdout.includes('Cache saved with key npm (42 B in '), explain());
  assert.equal(tr.warningIssues.length, 0, explain());
});

test('post: saves after an inexact hit', async () => {
  const { tr, call, explain } = await run('L0PostSavesOnInexact');
  assert.ok(tr.succeeded, explain());
  assert.ok(call('save'), explain());
});

test('post: exact hit saves nothing', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsOnExactHit');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes('Not saving: cache hit occurred on the primary key npm'), explain());
});

test('post: does nothing when the restore step did not run (even with save: always)', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsWhenRestoreSkipped');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes('Not saving: the restore step did not complete'), explain());
});

test('post: failed job saves nothing', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsOnFailedJob');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes('Not saving: the job status is failure'), explain());
});

test('post: save: always saves after a failed job', async () => {
  const { tr, call, explain } = await run('L0PostSavesAlwaysOnFailedJob');
  assert.ok(tr.succeeded, explain());
  assert.ok(call('save'), explain());
});

test('post: readOnly never saves (even with save: always)', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsReadOnly');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes('Not saving: read-only: readOnly is true'), explain());
});

test('post: save: never never saves', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsSaveNever');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
});

test('post: a storage error on save is a warning, not a failure', async () => {
  const { tr, explain } = await run('L0PostSaveErrorWarns');
  assert.ok(tr.succeeded, explain());
  assert.equal(tr.warningIssues.length, 1, explain());
  assert.equal(tr.warningIssues[0], 'Failed to save cache: access denied (403) writing npm');
});

test('post: key already stored is reported, not an error', async () => {
  const { tr, explain } = await run('L0PostAlreadyExists');
  assert.ok(tr.succeeded, explain());
  assert.ok(tr.stdout.includes('Cache with key npm already exists; not saving'), explain());
  assert.equal(tr.warningIssues.length, 0, explain());
});

test('post: a key that changed during the job warns and keeps the restore key', async () => {
  const { tr, call, explain } = await run('L0PostKeyChanged');
  assert.ok(tr.succeeded, explain());
  assert.match(tr.warningIssues.join('\n'), /The cache key changed during the job \(now yarn\/[0-9a-f]{64}\); saving under the key computed at restore: yarn\/0000/);
  assert.deepEqual(flag(call('save').args, '--key'), ['yarn/0000']);
});

test('post: no Agent.JobStatus counts as not succeeded', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsWithoutJobStatus');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes("Not saving: the job status is 'not set'"), explain());
});

test('post: SucceededWithIssues is not Succeeded (as Cache@2)', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsSucceededWithIssues');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes('Not saving: the job status is partial'), explain());
});

test('readOnly: auto (the default) makes a fork\'s pull request read-only', async () => {
  const { tr, explain } = await run('L0RestoreForkReadOnly');
  assert.ok(tr.succeeded, explain());
  assert.ok(setTaskVar(tr, 'S3POD_READ_ONLY', 'true'), explain());
  assert.ok(setTaskVar(tr, 'S3POD_READ_ONLY_REASON', 'pull requests from forks are read-only (readOnly: auto)'), explain());
  assert.ok(tr.stdout.includes('This job will not save the cache: pull requests from forks are read-only (readOnly: auto)'), explain());
});

test('post: a fork\'s pull request saves nothing, even with save: always', async () => {
  const { tr, calls, explain } = await run('L0PostSkipsFork');
  assert.ok(tr.succeeded, explain());
  assert.equal(calls.length, 0);
  assert.ok(tr.stdout.includes('Not saving: read-only: pull requests from forks are read-only (readOnly: auto)'), explain());
});

test('post: readOnly: false lets a fork\'s pull request save', async () => {
  const { tr, call, explain } = await run('L0PostForkReadOnlyFalse');
  assert.ok(tr.succeeded, explain());
  assert.deepEqual(flag(call('save').args, '--scope'), ['refs/pull/7/merge']);
});

test('dockerImage: restore --docker-image with restore keys and the scope, cacheSize from the result\'s size', async () => {
  const { tr, calls, explain } = await run('L0RestoreDockerImage');
  assert.ok(tr.succeeded, explain());
  const args = calls.find((c) => c.args[0] === 'restore').args;
  assert.deepEqual(args.slice(0, 3), ['restore', '--key', 'img']);
  assert.equal(flag(args, '--restore-key').length, 1, 'restore keys are passed with an image too');
  assert.deepEqual(flag(args, '--docker-image'), ['app:ci']);
  assert.deepEqual(flag(args, '--path'), []);
  assert.equal(flag(args, '--scope').length, 1, 'image entries are scoped like paths');
  assert.ok(setOutputVar(tr, 'cacheSize', '4242'), explain());
  assert.ok(setVar(tr, 'IMG_HIT', 'true'), explain());
});

test('post: dockerImage saves the image as an entry of the scope, with the level', async () => {
  const { tr, calls, explain } = await run('L0PostDockerImage');
  assert.ok(tr.succeeded, explain());
  const args = calls.find((c) => c.args[0] === 'save').args;
  assert.deepEqual(args.slice(0, 5), ['save', '--key', 'img', '--docker-image', 'app:ci']);
  assert.deepEqual(flag(args, '--scope'), ['refs/heads/main']);
  assert.deepEqual(flag(args, '--level'), ['7']);
  assert.ok(tr.stdout.includes('Cache saved with key img'), explain());
});

test('an agent with no s3pod build: one error naming Agent.OS/Agent.OSArchitecture and listing what exists', async () => {
  const { tr, calls, explain } = await run('L0BadPlatform');
  assert.ok(tr.failed, explain());
  const platforms = Object.keys(require('../../action/src/core/release-sums.json').assets).map((a) => a.replace(/^s3pod-|\.exe$/g, '')).sort().join(', ');
  assert.deepEqual(tr.errorIssues, [`No s3pod ${require('../../action/src/core/release-sums.json').version} binary for Linux ARM (Agent.OS/Agent.OSArchitecture); binaries exist for: ${platforms}. Put s3pod on PATH or set the binary input`], explain());
  assert.equal(calls.length, 0);
});

const { CONNECTION } = require('./scenarios/_scenario');
const taskJsonOf = (folder) => path.join(__dirname, '..', folder, 'task.json');

/** The output with the setsecret lines removed: the agent consumes those and prints nothing for them. */
const printed = (tr) => `${tr.stdout}\n${tr.stderr}`.split('\n').filter((l) => !l.startsWith('##vso[task.setsecret]')).join('\n');

for (const [scenarioName, folder, command] of [
  ['L0ConnectionRestoreDebug', 'S3PodV1', 'restore'],
  ['L0ConnectionArtifactDebug', 'S3PodArtifactV1', 'artifact'],
  ['L0ConnectionAssetsDebug', 'S3PodAssetsV1', 'asset'],
]) {
  test(`${folder}: the service connection's URL, data and credentials reach the binary; with system.debug no secret is printed`, async () => {
    const { tr, call, explain } = await run(scenarioName, taskJsonOf(folder));
    assert.ok(tr.succeeded, explain());
    assert.ok(tr.stdout.includes('##vso[task.debug]'), `system.debug is on: ${explain()}`);
    // Each credential is registered before any line that holds it (the agent masks from then on).
    const lines = tr.stdout.split('\n');
    for (const secret of [CONNECTION.secret, CONNECTION.keyId]) {
      const registered = lines.indexOf(`##vso[task.setsecret]${secret}`);
      assert.ok(registered >= 0, `${secret} is not registered: ${explain()}`);
      assert.ok(!lines.slice(0, registered).some((l) => l.includes(secret)), `${secret} is printed before it is registered: ${explain()}`);
    }
    const out = printed(tr);
    assert.ok(!out.includes(CONNECTION.secret), `the secret is printed:\n${out}`);
    assert.ok(!out.includes(CONNECTION.keyId), `the access key id is printed:\n${out}`);
    const c = call(command);
    assert.equal(c.secret, CONNECTION.secret);
    assert.equal(c.keyId, CONNECTION.keyId);
    assert.deepEqual(flag(c.args, '--endpoint'), ['http://127.0.0.1:9']);
    assert.deepEqual(flag(c.args, '--region'), [CONNECTION.region]);
    assert.deepEqual(flag(c.args, '--bucket'), [CONNECTION.bucket]);
    assert.deepEqual(flag(c.args, '--prefix'), [CONNECTION.prefix]);
  });
}

test('explicit inputs win over the connection, field by field; the deprecated credential inputs still work', async () => {
  const { tr, call, explain } = await run('L0ConnectionOverride');
  assert.ok(tr.succeeded, explain());
  const c = call('restore');
  assert.deepEqual(flag(c.args, '--bucket'), ['input-bucket']);
  assert.deepEqual(flag(c.args, '--region'), [CONNECTION.region]);
  assert.equal(c.keyId, 'AKIDINPUT');
  assert.equal(c.secret, 'input-SeCrEt-value');
  // (task-lib's own debug line for a typed-in input is masked by the agent, which got the
  // setsecret first when the real entry point runs: see the end-to-end tests.)
});
