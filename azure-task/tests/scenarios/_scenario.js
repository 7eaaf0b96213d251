'use strict';
// Shared set-up for the MockTestRunner scenario files: one file per case calls scenario(...).
// Inputs start from task.json's defaults, as the agent passes them; the agent's variables are
// environment variables; the binary is tests/fixtures/fake-s3pod.
const path = require('path');
const os = require('os');
const { TaskMockRunner } = require('azure-pipelines-task-lib/mock-run');

const TASK_DIR = path.join(__dirname, '..', '..', 'S3PodV1');
const FAKE = path.join(__dirname, '..', 'fixtures', 'fake-s3pod');

function scenario(entry, { inputs = {}, env = {}, taskVariables = {}, fake = {} } = {}) {
  const tmr = new TaskMockRunner(path.join(TASK_DIR, `${entry}.js`));
  const taskJson = require(path.join(TASK_DIR, 'task.json'));
  const all = {};
  for (const input of taskJson.inputs) {
    if (input.defaultValue !== undefined) all[input.name] = input.defaultValue;
  }
  Object.assign(all, { binary: FAKE }, inputs);
  for (const [name, value] of Object.entries(all)) tmr.setInput(name, value);
  for (const [name, value] of Object.entries(taskVariables)) tmr.setVariableName(name, value);
  const workdir = process.env.S3POD_L0_WORKDIR || os.tmpdir();
  Object.assign(process.env, {
    BUILD_SOURCEBRANCH: 'refs/heads/main',
    SYSTEM_DEFAULTWORKINGDIRECTORY: workdir,
    AGENT_TEMPDIRECTORY: os.tmpdir(),
    AGENT_TOOLSDIRECTORY: path.join(os.tmpdir(), 's3pod-l0-tools'),
    AGENT_JOBSTATUS: 'Succeeded',
  });
  for (const [name, value] of Object.entries(env)) {
    if (value === null) delete process.env[name];
    else process.env[name] = value;
  }
  for (const [command, answer] of Object.entries(fake)) {
    process.env[`FAKE_S3POD_${command.toUpperCase()}`] = JSON.stringify(answer);
  }
  tmr.run();
}

const hit = (primaryKey, matchedKey, exactMatch) => ({
  code: 0,
  json: { primaryKey, matchedKey, exactMatch, matchedScope: 'refs/heads/main', size: 123, restored: true, lookupOnly: false },
});
const miss = (primaryKey) => ({
  code: 0,
  json: { primaryKey, matchedKey: null, exactMatch: false, matchedScope: null, size: null, restored: false, lookupOnly: false },
});

module.exports = { scenario, hit, miss };
