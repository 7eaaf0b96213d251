'use strict';
// The S3Pod@1 flows: restore (execution) and save (postjobexecution). Host-agnostic pieces
// (input validation, finding and running the binary) come from the shared core; this file holds
// what is Azure's own: task variables, Cache@2 keys, Azure scopes and post-job rules.

const fs = require('fs');
const path = require('path');
const core = require('./core');
const cachekey = require('./cachekey');
const { computeScopes } = require('./scope');
const { Inputs, State, Vars, SaveModes } = require('./names');

/** Core (GitHub-spelled) input name -> task.json input name. Core inputs not listed read as ''. */
const CORE_TO_AZURE = {
  key: Inputs.Key,
  'hash-files': Inputs.HashFiles,
  path: Inputs.Path,
  'restore-keys': Inputs.RestoreKeys,
  endpoint: Inputs.Endpoint,
  region: Inputs.Region,
  bucket: Inputs.Bucket,
  prefix: Inputs.Prefix,
  'access-key-id': Inputs.AccessKeyId,
  'secret-access-key': Inputs.SecretAccessKey,
  'read-only': Inputs.ReadOnly,
  'fail-on-cache-miss': Inputs.FailOnCacheMiss,
  'lookup-only': Inputs.LookupOnly,
  'compression-level': Inputs.CompressionLevel,
  binary: Inputs.Binary,
};

class AzureInputError extends Error {
  constructor(input, message) {
    super(message);
    this.input = input;
  }
}

/** Rewrites a core message so it names the task.json input, not the action.yml one. */
function azureMessage(message) {
  let text = String(message).replace(/ \(or docker-image\)/g, '');
  const names = Object.keys(CORE_TO_AZURE).sort((a, b) => b.length - a.length);
  for (const name of names) {
    const re = new RegExp(`(^|["\\s:(])${name.replace(/[-]/g, '\\-')}(?=$|["\\s,.;:)])`, 'g');
    text = text.replace(re, `$1${CORE_TO_AZURE[name]}`);
  }
  return text;
}

function taskJsonPath() {
  // Source tree: S3PodV1/src/run.js; bundle: S3PodV1/main.js (everything inlined).
  for (const dir of [__dirname, path.join(__dirname, '..')]) {
    const file = path.join(dir, 'task.json');
    if (fs.existsSync(file)) return file;
  }
  return path.join(__dirname, 'task.json');
}

/** Neutralises logging commands in text that came from the binary (file names, keys). */
function safeLine(line) {
  return String(line).replace(/##(vso)?\[/gi, (m) => m.slice(0, 2) + '\u200b' + m.slice(2));
}

/** The host object the shared core reads inputs through. */
function createHost(tl, registered = []) {
  const masked = new Set(registered);
  return {
    getInput(name) {
      if (name === 'save') {
        const v = (tl.getInput(Inputs.Save) || '').trim();
        return v === 'onMiss' ? 'on-miss' : v;
      }
      if (name === 'job-status') return tl.getVariable(Vars.JobStatus) || '';
      const azureName = CORE_TO_AZURE[name];
      return azureName ? tl.getInput(azureName) || '' : '';
    },
    setSecret: (v) => {
      if (!masked.has(v)) tl.setSecret(v);
      masked.add(v);
    },
    info: (m) => console.log(safeLine(m)),
    debug: (m) => tl.debug(safeLine(m)),
    warning: (m) => tl.warning(m),
  };
}

/** Inputs validated by the core plus Azure's own (save spelling, cacheHitVar, free-form scope). */
function readInputs(tl, host, mode) {
  const save = (tl.getInput(Inputs.Save) || '').trim() || 'onMiss';
  if (!SaveModes.includes(save)) {
    throw new AzureInputError(Inputs.Save, `Input "save" must be one of ${SaveModes.join(', ')}, not "${save}"`);
  }
  const cacheHitVar = (tl.getInput(Inputs.CacheHitVar) || '').trim();
  if (cacheHitVar && !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(cacheHitVar)) {
    throw new AzureInputError(Inputs.CacheHitVar, `Input "cacheHitVar" must be a variable name (letters, digits, "_" and "."), not "${cacheHitVar}"`);
  }
  const scope = (tl.getInput(Inputs.Scope) || '').trim();
  if (/[\r\n]/.test(scope)) throw new AzureInputError(Inputs.Scope, 'Input "scope" must be a single line');
  let inputs;
  try {
    inputs = core.readInputs(host, mode);
  } catch (err) {
    if (err instanceof core.InputError) {
      throw new AzureInputError(CORE_TO_AZURE[err.input] || err.input, azureMessage(err.message));
    }
    throw err;
  }
  // The core accepts zstd's full range; the binary's --level takes 1-19. Say so up front,
  // naming the input, instead of a warning from the post-job step.
  if (inputs.compressionLevel !== undefined && (inputs.compressionLevel < 1 || inputs.compressionLevel > 19)) {
    throw new AzureInputError(Inputs.CompressionLevel, `Input "compressionLevel" must be a whole number from 1 to 19, not "${inputs.compressionLevel}"`);
  }
  const templateMode = inputs.hashFiles.length > 0 || inputs.key.includes('{hash}');
  if (templateMode && inputs.key.includes('|')) {
    throw new AzureInputError(Inputs.Key, 'Input "key" mixes Cache@2 segments ("|") with an s3pod template ({hash} / hashFiles); use one or the other');
  }
  return { ...inputs, save, cacheHitVar, scopeInput: scope, templateMode };
}

function workingDirectory(tl) {
  return tl.getVariable(Vars.WorkingDirectory) || process.cwd();
}

function connection(tl, inputs, cwd) {
  return {
    cwd,
    env: core.binaryEnv(inputs, process.env),
    secrets: [inputs.secretAccessKey, inputs.accessKeyId].filter(Boolean),
  };
}

function run(binary, conn, args, onStderr) {
  return core.runS3pod(binary, args, {
    env: conn.env,
    cwd: conn.cwd,
    secrets: conn.secrets,
    onStderr: onStderr || ((line) => console.log(safeLine(line))),
  });
}

async function locate(tl, inputs) {
  const found = await core.locateBinary({
    binary: inputs.binary,
    env: process.env,
    toolCacheDir: tl.getVariable(Vars.ToolsDirectory) || undefined,
    tempDir: tl.getVariable(Vars.TempDirectory) || undefined,
    log: { info: (m) => console.log(safeLine(m)), debug: (m) => tl.debug(m) },
  });
  return found.path;
}

/** `s3pod key <template> --hash-from ...` -> the concrete key. */
async function templateKey(binary, conn, template, hashFiles, input, onStderr) {
  const args = ['key', template];
  for (const f of hashFiles) args.push('--hash-from', f);
  const result = await run(binary, conn, args, onStderr);
  const key = result.json && typeof result.json.key === 'string' ? result.json.key : '';
  if (result.exitCode !== 0 || !key) {
    throw new AzureInputError(input, `Could not resolve "${template}" from hashFiles: ${core.errorLine(result)}`);
  }
  return key;
}

/**
 * The primary key and restore-key prefixes as s3pod strings.
 * Cache@2 syntax is resolved here (see cachekey.js); templates go through `s3pod key`.
 */
async function resolveKeys(binary, conn, inputs, onStderr) {
  if (inputs.templateMode) {
    const template = inputs.key.includes('{hash}') ? inputs.key : `${inputs.key}-{hash}`;
    const primary = await templateKey(binary, conn, template, inputs.hashFiles, Inputs.HashFiles, onStderr);
    const restoreKeys = [];
    for (const line of inputs.restoreKeys) {
      restoreKeys.push(line.includes('{hash}') ? await templateKey(binary, conn, line, inputs.hashFiles, Inputs.RestoreKeys, onStderr) : line);
    }
    return { primary, restoreKeys, description: `template ${inputs.key}` };
  }
  try {
    const resolved = cachekey.resolveKey(inputs.key, conn.cwd, Inputs.Key);
    const restoreKeys = cachekey.resolveRestoreKeys(inputs.restoreKeys, conn.cwd, Inputs.RestoreKeys);
    return { primary: resolved.key, restoreKeys, description: cachekey.describe(resolved) };
  } catch (err) {
    if (err instanceof cachekey.KeyError) throw new AzureInputError(err.input, err.message);
    throw err;
  }
}

function fail(tl, err) {
  const message = err && err.message ? err.message : String(err);
  tl.setResult(tl.TaskResult.Failed, message);
}

/** A ctx shaped like the core's, so its restoreArgs/saveArgs build the argument lists. */
function coreCtx(inputs, restoreKeys, scope, fallbackScopes) {
  return { inputs: { ...inputs, restoreKeys }, scope, fallbackScopes };
}

async function restore(tl, registeredSecrets = []) {
  try {
    tl.setResourcePath(taskJsonPath());
    const host = createHost(tl, registeredSecrets);
    core.maskSecrets(host);
    const inputs = readInputs(tl, host, 'restore');
    const cwd = workingDirectory(tl);
    const conn = connection(tl, inputs, cwd);
    const binary = await locate(tl, inputs);
    const keys = await resolveKeys(binary, conn, inputs);
    const { scope, fallbackScopes } = computeScopes(inputs.scopeInput, (n) => tl.getVariable(n));
    console.log(tl.loc('ResolvedKey', keys.primary, keys.description));
    console.log(tl.loc('Scopes', scope || '(none)', fallbackScopes.join(', ') || '(nothing else)'));

    // What the post-job step needs. Written before the restore so that a restore that fails on
    // storage still leads to a save attempt, as a miss would.
    tl.setTaskVariable(State.PrimaryKey, keys.primary);
    tl.setTaskVariable(State.Scope, scope || '');
    tl.setTaskVariable(State.Paths, JSON.stringify(inputs.paths));
    tl.setTaskVariable(State.Binary, binary);
    tl.setTaskVariable(State.ExactMatch, 'false');
    tl.setTaskVariable(State.MatchedKey, '');
    tl.setTaskVariable(State.RestoreRan, 'true');

    const setHit = (v) => {
      if (inputs.cacheHitVar) tl.setVariable(inputs.cacheHitVar, v);
    };
    const args = core.restoreArgs(coreCtx(inputs, keys.restoreKeys, scope, fallbackScopes), keys.primary);
    const result = await run(binary, conn, args);
    const ok = result.exitCode === core.ExitCodes.Success && result.json;
    if (!ok) {
      setHit('false');
      if (result.exitCode === core.ExitCodes.CacheMiss) {
        return fail(tl, new Error(tl.loc('FailOnCacheMiss', keys.primary)));
      }
      // Storage, network, credential and integrity errors: the build goes on without a cache
      // (as with Cache@2 and the GitHub Action); nothing is extracted from a bad archive.
      const message = result.exitCode === core.ExitCodes.Integrity
        ? tl.loc('Integrity', keys.primary, core.errorLine(result))
        : tl.loc('RestoreFailed', core.errorLine(result));
      if (inputs.failOnCacheMiss) return fail(tl, new Error(message));
      tl.warning(message);
      return tl.setResult(tl.TaskResult.Succeeded, '');
    }
    const matched = result.json.matchedKey || null;
    if (!matched) {
      setHit('false');
      console.log(tl.loc('CacheMiss', [keys.primary, ...keys.restoreKeys].join(', ')));
      if (inputs.failOnCacheMiss) return fail(tl, new Error(tl.loc('FailOnCacheMiss', keys.primary)));
      return tl.setResult(tl.TaskResult.Succeeded, '');
    }
    const exact = result.json.exactMatch === true;
    tl.setTaskVariable(State.MatchedKey, matched);
    tl.setTaskVariable(State.ExactMatch, exact ? 'true' : 'false');
    setHit(exact ? 'true' : 'inexact');
    if (inputs.lookupOnly) console.log(tl.loc('LookupHit', matched));
    else if (exact) console.log(tl.loc('CacheHit', matched));
    else console.log(tl.loc('CacheHitInexact', matched, keys.primary));
    return tl.setResult(tl.TaskResult.Succeeded, '');
  } catch (err) {
    return fail(tl, err);
  }
}

async function save(tl, registeredSecrets = []) {
  try {
    tl.setResourcePath(taskJsonPath());
    const restoreRan = tl.getTaskVariable(State.RestoreRan) === 'true';
    if (!restoreRan) {
      // Post-job steps run even when the main step was skipped by its condition.
      console.log(tl.loc('SkipNoRestore'));
      return tl.setResult(tl.TaskResult.Succeeded, '');
    }
    const host = createHost(tl, registeredSecrets);
    core.maskSecrets(host);
    const inputs = readInputs(tl, host, 'save');
    const primary = tl.getTaskVariable(State.PrimaryKey) || '';
    const jobStatus = tl.getVariable(Vars.JobStatus) || '';
    const decision = core.decideSave({
      restoreRan,
      exactMatch: tl.getTaskVariable(State.ExactMatch) === 'true',
      primaryKey: primary,
      readOnly: inputs.readOnly === 'true',
      readOnlyReason: 'readOnly is true',
      save: inputs.save === 'onMiss' ? 'on-miss' : inputs.save,
      // Cache@2 saves only after 'Succeeded'. SucceededWithIssues normalises to 'partial'; a status
      // the core cannot name (or none) must not count as success here, so it is passed verbatim.
      jobStatus: core.normalizeJobStatus(jobStatus) === 'unknown' ? `'${jobStatus || 'not set'}'` : core.normalizeJobStatus(jobStatus),
    });
    if (!decision.save) {
      console.log(tl.loc('SkipSave', decision.reason));
      return tl.setResult(tl.TaskResult.Succeeded, '');
    }

    const cwd = workingDirectory(tl);
    const conn = connection(tl, inputs, cwd);
    let binary = tl.getTaskVariable(State.Binary) || '';
    if (inputs.binary || !binary || !fs.existsSync(binary)) binary = await locate(tl, inputs);
    let paths;
    try {
      paths = JSON.parse(tl.getTaskVariable(State.Paths) || 'null') || inputs.paths;
    } catch {
      paths = inputs.paths;
    }
    const scope = tl.getTaskVariable(State.Scope) || null;

    // Cache@2 warns when the fingerprint moved during the job; the save keeps the restore's key.
    try {
      const now = await resolveKeys(binary, conn, { ...inputs, restoreKeys: [] }, () => {});
      if (now.primary !== primary) tl.warning(tl.loc('KeyChanged', now.primary, primary));
    } catch (err) {
      tl.debug(`Could not re-resolve the key: ${err.message}`);
    }

    const args = core.saveArgs(coreCtx({ ...inputs, paths }, [], scope, []), primary);
    const result = await run(binary, conn, args);
    if (result.exitCode === core.ExitCodes.Success && result.json) {
      if (result.json.saved === false) console.log(tl.loc('AlreadyExists', primary));
      else console.log(tl.loc('Saved', result.json.key || primary, String(result.json.size ?? '?')));
    } else {
      tl.warning(tl.loc('SaveFailed', core.errorLine(result)));
    }
    return tl.setResult(tl.TaskResult.Succeeded, '');
  } catch (err) {
    // Input errors were already reported by the restore step; nothing here may fail a job
    // whose real work is done.
    tl.warning(tl.loc('SaveFailed', err && err.message ? err.message : String(err)));
    return tl.setResult(tl.TaskResult.Succeeded, '');
  }
}

module.exports = { restore, save, azureMessage, safeLine, createHost, CORE_TO_AZURE };
