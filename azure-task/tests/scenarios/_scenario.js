'use strict';
// Shared set-up for the MockTestRunner scenario files: one file per case calls scenario(...).
// Inputs start from task.json's defaults, as the agent passes them; the agent's variables are
// environment variables; the binary is the wrappers' shared stub (action/__tests__/fixtures),
// which logs every call to $S3POD_L0_LOG. `fake: { restore: {code, json, stderr} }` makes the stub
// answer that command so (keys as the stub's S3POD_STUB_ANSWER_<COMMAND>: restore, save,
// docker_download, ...); commands without one run the stub over its directory store.
const path = require('path');
const os = require('os');
const { TaskMockRunner } = require('azure-pipelines-task-lib/mock-run');

const TASKS_DIR = path.join(__dirname, '..', '..');
const STUB = path.join(__dirname, '..', '..', '..', 'action', '__tests__', 'fixtures', 'stub-s3pod.cjs');

function scenario(entry, { task = 'S3PodV1', inputs = {}, env = {}, taskVariables = {}, fake = {} } = {}) {
  const taskDir = path.join(TASKS_DIR, task);
  const tmr = new TaskMockRunner(path.join(taskDir, `${entry}.js`));
  const taskJson = require(path.join(taskDir, 'task.json'));
  const all = {};
  for (const input of taskJson.inputs) {
    if (input.defaultValue !== undefined) all[input.name] = input.defaultValue;
  }
  Object.assign(all, { binary: STUB }, inputs);
  for (const [name, value] of Object.entries(all)) tmr.setInput(name, value);
  for (const [name, value] of Object.entries(taskVariables)) tmr.setVariableName(name, value);
  const workdir = process.env.S3POD_L0_WORKDIR || os.tmpdir();
  Object.assign(process.env, {
    BUILD_SOURCEBRANCH: 'refs/heads/main',
    SYSTEM_DEFAULTWORKINGDIRECTORY: workdir,
    AGENT_TEMPDIRECTORY: process.env.AGENT_TEMPDIRECTORY || os.tmpdir(),
    AGENT_TOOLSDIRECTORY: path.join(os.tmpdir(), 's3pod-l0-tools'),
    AGENT_JOBSTATUS: 'Succeeded',
    S3POD_STUB_LOG: process.env.S3POD_L0_LOG || '',
    S3POD_STORE: process.env.S3POD_L0_STORE || path.join(os.tmpdir(), 's3pod-l0-store'),
  });
  for (const [name, value] of Object.entries(env)) {
    if (value === null) delete process.env[name];
    else process.env[name] = value;
  }
  for (const [command, answer] of Object.entries(fake)) {
    process.env[`S3POD_STUB_ANSWER_${command.toUpperCase()}`] = JSON.stringify(answer);
  }
  tmr.run();
}

const hit = (primaryKey, matchedKey, exactMatch) => ({
  code: 0,
  json: { primaryKey, matchedKey, exactMatch, matchedScope: 'refs/heads/main', size: 123, restored: true, lookupOnly: false, files: 2, seconds: 0.1, miss: null },
});
const miss = (primaryKey, why = { summary: `no cache entry matches key ${primaryKey} in scopes refs/heads/main`, reasons: [`no entry has key ${primaryKey} in any scope`], nearest: [] }) => ({
  code: 0,
  json: { primaryKey, matchedKey: null, exactMatch: false, matchedScope: null, size: null, restored: false, lookupOnly: false, files: null, seconds: 0.1, miss: why },
});

/**
 * An "S3-compatible storage (s3pod)" connection as the agent hands it to a task: the input holds
 * its id; the URL, the data fields and the UsernamePassword credentials are ENDPOINT_* variables.
 */
const CONNECTION = Object.freeze({ id: 'c0ffee00-s3pod', url: 'http://127.0.0.1:9/', keyId: 'AKIDCONNECTION0001', secret: 'conn-SeCrEt-value-0001', region: 'eu-conn-1', bucket: 'conn-bucket', prefix: 'conn/prefix' });
function connectionEnv(c = CONNECTION) {
  return {
    [`ENDPOINT_URL_${c.id}`]: c.url,
    [`ENDPOINT_AUTH_SCHEME_${c.id}`]: 'UsernamePassword',
    [`ENDPOINT_AUTH_${c.id}`]: JSON.stringify({ scheme: 'UsernamePassword', parameters: { username: c.keyId, password: c.secret } }),
    [`ENDPOINT_AUTH_PARAMETER_${c.id}_USERNAME`]: c.keyId,
    [`ENDPOINT_AUTH_PARAMETER_${c.id}_PASSWORD`]: c.secret,
    [`ENDPOINT_DATA_${c.id}_REGION`]: c.region,
    [`ENDPOINT_DATA_${c.id}_BUCKET`]: c.bucket,
    [`ENDPOINT_DATA_${c.id}_PREFIX`]: c.prefix,
  };
}

module.exports = { scenario, hit, miss, STUB, CONNECTION, connectionEnv };
