'use strict';
// The Azure Pipelines host adapter: the core's host interface (action/src/core/host.js) on
// azure-pipelines-task-lib, with Azure's own spelling (camelCase inputs, onMiss), Cache@2 key
// syntax for keys that are not s3pod templates, and Azure's scope and trust rules.

const core = require('./core');
const cachekey = require('./cachekey');
const rules = require('./azure-rules');
const { fromAuthorization, CONNECTION_INPUT } = require('./secrets');
const { InputNames, TaskInputs, ValueNames, OutputNames, StateNames, Vars } = require('./names');

const CoreInputOf = Object.fromEntries(Object.entries(InputNames).map(([coreName, azureName]) => [azureName, coreName]));

/** The title of the log group that holds a step's summary. */
const SUMMARY_GROUP = 's3pod summary';

/** Neutralises logging commands in text that came from the binary or the user (file names, keys). */
function safeLine(line) {
  return String(line).replace(/##(vso)?\[/gi, (m) => `${m.slice(0, 2)}\u200b${m.slice(2)}`);
}

/** An input naming a variable to set (cacheHitVar, versionVar, ...): the name, or '' when unset. Throws InputError on a bad name. */
function variableInput(tl, input) {
  const name = (tl.getInput(input) || '').trim();
  if (name && !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
    throw new core.InputError(input, `Input "${input}" must be a variable name (letters, digits, "_" and "."), not "${name}"`);
  }
  return name;
}

/** The cacheHitVar input: a variable name, or '' when unset. Throws InputError on a bad name. */
function cacheHitVariable(tl) {
  return variableInput(tl, TaskInputs.CacheHitVar);
}

/** Core inputs a service connection can supply, when the task input itself is empty. */
const CONNECTION_FIELDS = ['endpoint', 'region', 'bucket', 'prefix', 'access-key-id', 'secret-access-key'];

/**
 * The fields of the "S3-compatible storage (s3pod)" connection the task names: the server URL is
 * the endpoint, the data fields region/bucket/prefix; the credentials were captured by the entry
 * point (secrets.captureConnection) before task-lib could log them. {} without a connection.
 */
function connectionFields(tl, connection, setSecret) {
  // The entry point read the input before task-lib loaded; under a test runner task-lib loads
  // first and takes every INPUT_* out of the environment, so ask it (the value is only an id).
  const id = (connection && connection.id) || (tl.getInput(CONNECTION_INPUT) || '').trim();
  if (!id) return {};
  let { accessKeyId = '', secretAccessKey = '' } = (connection && connection.id === id && connection) || {};
  if (!accessKeyId && !secretAccessKey) {
    // task-lib was loaded before the entry point could read the environment (a test runner
    // does that): take them from its vault through the one call that logs no value.
    ({ accessKeyId, secretAccessKey } = fromAuthorization(tl.getEndpointAuthorization(id, true)));
    for (const value of [secretAccessKey, accessKeyId]) if (value) setSecret(value);
  }
  const data = (key) => (tl.getEndpointDataParameter(id, key, true) || '').trim();
  return {
    endpoint: (tl.getEndpointUrl(id, true) || '').trim().replace(/\/+$/, ''),
    region: data('region'),
    bucket: data('bucket'),
    prefix: data('prefix'),
    'access-key-id': accessKeyId || '',
    'secret-access-key': secretAccessKey || '',
  };
}

/**
 * The host for one step. registeredSecrets: values the entry point already registered with
 * task.setsecret (read from the environment before task-lib could log them). names: the task's
 * spelling of the core's inputs and outputs (S3Pod@1's by default; S3PodArtifact@1 and
 * S3PodAssets@1 pass their own). connection: the captured credentials of the s3Connection input
 * ({ id, accessKeyId, secretAccessKey }); an explicit input wins over the connection's field.
 * complete() ends the step: Succeeded unless setFailed was called.
 */
function azureHost(tl, { registeredSecrets = [], env = process.env, names = {}, connection = null } = {}) {
  const inputNames = names.inputs || InputNames;
  const outputNames = names.outputs || OutputNames;
  const masked = new Set(registeredSecrets);
  const variable = (name) => (tl.getVariable(name) || '').trim();
  let failed = false;
  let fromConnection;
  const setSecret = (value) => {
    if (!masked.has(value)) tl.setSecret(value);
    masked.add(value);
  };
  const input = (name) => (inputNames[name] ? tl.getInput(inputNames[name]) || '' : '');
  return {
    env,
    cwd: variable(Vars.WorkingDirectory) || process.cwd(),
    getInput: (name) => {
      const value = input(name);
      if (value.trim() || !CONNECTION_FIELDS.includes(name)) return value;
      fromConnection ??= connectionFields(tl, connection, setSecret);
      return fromConnection[name] || value;
    },
    inputName: (name) => inputNames[name] || name,
    valueName: (name, value) => ValueNames[name]?.[value] || value,
    setOutput: (name, value) => tl.setVariable(outputNames[name], value, false, true),
    // A plain variable: later steps see it as an environment variable (S3POD_ASSETS_DIR).
    exportVariable: (name, value) => tl.setVariable(name, value),
    saveState: (name, value) => tl.setTaskVariable(StateNames[name] || name, value),
    getState: (name) => tl.getTaskVariable(StateNames[name] || name) || '',
    setSecret,
    info: (message) => console.log(safeLine(message)),
    warning: (message) => tl.warning(safeLine(message)),
    error: (message) => tl.error(safeLine(message)),
    debug: (message) => tl.debug(safeLine(message)),
    setFailed: (message) => {
      failed = true;
      tl.setResult(tl.TaskResult.Failed, safeLine(message));
    },
    // The tasks run in restricted command mode, where the agent refuses task.uploadsummary (it
    // attaches a file to the run), so the summary goes into the step's log as a collapsible group.
    summary: (markdown) => {
      console.log(`##[group]${SUMMARY_GROUP}`);
      for (const line of String(markdown).split(/\r?\n/)) console.log(safeLine(line));
      console.log('##[endgroup]');
    },
    scopes: (scopeInput) => {
      if (/[\r\n]/.test(scopeInput)) throw new core.InputError(core.Inputs.Scope, `Input "${InputNames.scope}" must be a single line`);
      return rules.computeScopes(scopeInput, variable);
    },
    untrustedReason: () => rules.untrustedReason(variable),
    jobStatus: () => rules.jobStatus(variable),
    runner: () => ({ os: variable(Vars.AgentOS), arch: variable(Vars.AgentArch), names: `${Vars.AgentOS}/${Vars.AgentArch}` }),
    toolOptions: () => ({
      toolCacheDir: variable(Vars.ToolsDirectory) || undefined,
      tempDir: variable(Vars.TempDirectory) || undefined,
    }),
    checkInputs: (inputs) => {
      cacheHitVariable(tl);
      const template = inputs.hashFiles.length > 0 || inputs.key.includes('{hash}');
      if (template && inputs.key.includes('|')) {
        throw new core.InputError(core.Inputs.Key, `Input "key" mixes Cache@2 segments ("|") with an s3pod template ({hash} / ${InputNames['hash-files']}); use one or the other`);
      }
    },
    literalKeys: (inputs) => {
      const cwd = variable(Vars.WorkingDirectory) || process.cwd();
      try {
        const resolved = cachekey.resolveKey(inputs.key, cwd, InputNames.key);
        const restoreKeys = cachekey.resolveRestoreKeys(inputs.restoreKeys, cwd, InputNames['restore-keys']);
        return { primaryKey: resolved.key, restoreKeys, description: cachekey.describe(resolved) };
      } catch (err) {
        if (err instanceof cachekey.KeyError) throw new core.InputError(CoreInputOf[err.input] || err.input, err.message);
        throw err;
      }
    },
    complete: () => {
      if (!failed) tl.setResult(tl.TaskResult.Succeeded, '');
    },
  };
}

module.exports = { azureHost, cacheHitVariable, variableInput, safeLine, connectionFields, SUMMARY_GROUP };
