'use strict';
// task-lib's getInput() writes "name=value" to the debug log, and the agent masks only values it
// knows are secret. An access key typed into the YAML (not a secret variable) would leak there,
// so the entry points read these two inputs from the environment before task-lib loads and
// register them with ##vso[task.setsecret] first.
const NAMES = ['INPUT_SECRETACCESSKEY', 'INPUT_ACCESSKEYID'];

function capture(env) {
  return NAMES.map((n) => (env[n] || '').trim()).filter(Boolean);
}

module.exports = { capture };
