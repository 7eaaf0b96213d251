'use strict';
// The Azure host adapter as the core sees it: the whole interface, task.json's spelling in every
// message, state under the task variable names, and the core's flows run on it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const core = require('../shared/core');
const { azureHost } = require('../shared/azure-host');
const { cacheHitValue } = require('../shared/task');

/** Just enough of task-lib to drive the adapter: inputs and variables in, commands recorded. */
function fakeTaskLib(inputs = {}, variables = {}) {
  const log = [];
  return {
    log,
    TaskResult: { Succeeded: 0, Failed: 2 },
    getInput: (name) => inputs[name],
    getVariable: (name) => variables[name],
    setVariable: (name, value, secret, isOutput) => log.push(['setVariable', name, value, !!isOutput]),
    setTaskVariable: (name, value) => log.push(['setTaskVariable', name, value]),
    getTaskVariable: (name) => variables[`task:${name}`],
    setSecret: (value) => log.push(['setSecret', value]),
    warning: (m) => log.push(['warning', m]),
    error: (m) => log.push(['error', m]),
    debug: () => {},
    setResult: (result, message) => log.push(['setResult', result, message]),
    uploadSummary: (file) => log.push(['uploadSummary', file]),
  };
}

test('the Azure host implements the whole host interface', () => {
  assert.doesNotThrow(() => core.checkHost(azureHost(fakeTaskLib())));
  for (const name of core.HOST_METHODS) {
    const host = azureHost(fakeTaskLib());
    delete host[name];
    assert.throws(() => core.checkHost(host), new RegExp(`lacks: ${name}`));
  }
});

test('core input errors name the task.json input and its values (no rewriting of messages)', () => {
  const cases = [
    [{ key: 'k', path: 'p', compressionLevel: '99' }, 'Input "compressionLevel" must be a whole number from 1 to 19, not "99"'],
    [{ key: 'k', path: 'p', save: 'sometimes' }, 'Input "save" must be one of onMiss, always, never, not "sometimes"'],
    [{ key: 'k', path: 'p', readOnly: 'maybe' }, 'Input "readOnly" must be one of auto, true, false, not "maybe"'],
    [{ key: 'k', path: 'p', accessKeyId: 'AK' }, 'Input "secretAccessKey" is required when "accessKeyId" is set'],
    [{ key: 'k' }, 'Input required and not supplied: path (or dockerImage)'],
    [{ key: 'k-{hash}', path: 'p' }, 'Input "key" contains {hash}, so "hashFiles" must list the files to hash'],
  ];
  for (const [inputs, message] of cases) {
    assert.throws(() => core.readInputs(azureHost(fakeTaskLib(inputs))), (err) => err instanceof core.InputError && err.message === message, message);
  }
  assert.equal(core.readInputs(azureHost(fakeTaskLib({ key: 'k', path: 'p', save: 'onMiss' }))).save, 'on-miss');
  assert.equal(core.readInputs(azureHost(fakeTaskLib({ key: 'k', path: 'p' }))).readOnly, 'auto');
});

test('Azure-only rules: cacheHitVar, Cache@2 segments in a template, a multi-line scope', () => {
  const host = (inputs) => azureHost(fakeTaskLib({ key: 'k', path: 'p', ...inputs }));
  const check = (inputs) => { const h = host(inputs); h.checkInputs(core.readInputs(h)); };
  assert.throws(() => check({ cacheHitVar: 'a b' }), (err) => err.input === 'cacheHitVar' && /Input "cacheHitVar" must be a variable name/.test(err.message));
  assert.throws(() => check({ key: 'npm | {hash}', hashFiles: 'x' }), (err) => err.input === 'key' && /mixes Cache@2 segments/.test(err.message));
  assert.doesNotThrow(() => check({ cacheHitVar: 'HIT.var_1' }));
  assert.throws(() => host({}).scopes('a\nb'), /Input "scope" must be a single line/);
});

test('outputs are output variables; state lives in task variables (RESTORE_STEP_RAN as Cache@2 names it)', () => {
  const tl = fakeTaskLib({}, { 'task:RESTORE_STEP_RAN': 'true', 'task:S3POD_PRIMARY_KEY': 'k' });
  const host = azureHost(tl);
  host.setOutput(core.Outputs.CacheSize, '12');
  host.saveState(core.State.RestoreRan, 'true');
  host.saveState(core.State.PrimaryKey, 'k');
  assert.deepEqual(tl.log, [['setVariable', 'cacheSize', '12', true], ['setTaskVariable', 'RESTORE_STEP_RAN', 'true'], ['setTaskVariable', 'S3POD_PRIMARY_KEY', 'k']]);
  assert.equal(host.getState(core.State.RestoreRan), 'true');
  assert.equal(host.getState(core.State.PrimaryKey), 'k');
});

test('the runner is Agent.OS / Agent.OSArchitecture; tools go to the agent\'s directories', () => {
  const host = azureHost(fakeTaskLib({}, { 'Agent.OS': 'Darwin', 'Agent.OSArchitecture': 'ARM64', 'Agent.ToolsDirectory': '/t', 'Agent.TempDirectory': '/tmp/a' }));
  assert.deepEqual(host.runner(), { os: 'Darwin', arch: 'ARM64', names: 'Agent.OS/Agent.OSArchitecture' });
  assert.equal(core.assetName(host.runner().os, host.runner().arch), 's3pod-osx-arm64');
  assert.deepEqual(host.toolOptions(), { toolCacheDir: '/t', tempDir: '/tmp/a' });
});

test('logging commands cannot come through any log method; complete() succeeds unless failed', () => {
  const tl = fakeTaskLib();
  const host = azureHost(tl);
  host.warning('x ##vso[task.setvariable variable=A]1');
  host.setFailed('##[error]y');
  host.complete();
  assert.ok(tl.log.every((entry) => !String(entry[entry.length - 1]).includes('##vso[') && !String(entry[2]).includes('##[')), JSON.stringify(tl.log));
  assert.deepEqual(tl.log.filter((e) => e[0] === 'setResult').map((e) => e[1]), [2], 'failed once, never succeeded after');
  const ok = fakeTaskLib();
  azureHost(ok).complete();
  assert.deepEqual(ok.log, [['setResult', 0, '']]);
});

test('cacheHitVar: true, inexact or false from the flow\'s result', () => {
  assert.deepEqual(['hit', 'partial', 'miss', 'error', 'failed'].map((status) => cacheHitValue({ status })), ['true', 'inexact', 'false', 'false', 'false']);
});
