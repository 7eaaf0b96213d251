'use strict';

const { InputError } = require('./errors');
const { Inputs, ReadOnlyModes, SaveModes } = require('./constants');

/** The binary's key limit (ObjectKeys.MaxBytes): S3's 1024 bytes of UTF-8. The binary counts the
 * store prefix too and has the last word; this check only fails early. A test compares the two. */
const MAX_KEY_BYTES = 1024;

function raw(host, name) {
  const value = host.getInput(name);
  return value == null ? '' : String(value).trim();
}

/** The input's name as the user wrote it in the workflow (`docker-image` on GitHub, `dockerImage` on Azure). */
function label(host, name) {
  return host.inputName(name);
}

function getString(host, name, { required = false } = {}) {
  const value = raw(host, name);
  if (required && !value) {
    throw new InputError(name, `Input required and not supplied: ${label(host, name)}`);
  }
  return value;
}

/** Multi-line input: one entry per line, blanks dropped, "! foo" becomes "!foo" (as actions/cache). */
function getList(host, name) {
  return raw(host, name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/^!\s+/, '!'));
}

/** Strict boolean: only true/false in any case; empty means the default. */
function getBoolean(host, name, fallback = false) {
  const value = raw(host, name);
  if (!value) return fallback;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  throw new InputError(name, `Input "${label(host, name)}" must be true or false, not "${value}"`);
}

/**
 * One of `allowed` (core spellings), matched against the host's spelling of each value in any
 * case; empty means `fallback`. Returns the core spelling.
 */
function parseChoice(host, name, value, allowed, fallback) {
  const text = String(value ?? '').trim();
  if (!text) return fallback;
  const spelled = allowed.map((v) => host.valueName(name, v));
  const at = spelled.findIndex((v) => v.toLowerCase() === text.toLowerCase());
  if (at < 0) {
    throw new InputError(name, `Input "${label(host, name)}" must be one of ${spelled.join(', ')}, not "${text}"`);
  }
  return allowed[at];
}

function getInteger(host, name, min, max) {
  const value = raw(host, name);
  if (!value) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(name, `Input "${label(host, name)}" must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return Number(value);
}

function checkKey(host, name, key) {
  if (/[\r\n]/.test(key)) throw new InputError(name, `Input "${label(host, name)}" must be a single line`);
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new InputError(name, `Input "${label(host, name)}" is ${bytes} bytes long (UTF-8); S3 allows ${MAX_KEY_BYTES}`);
  }
}

function checkSingleLine(host, name, value) {
  if (/[\r\n]/.test(value)) throw new InputError(name, `Input "${label(host, name)}" must be a single line`);
}

function checkEndpoint(host, endpoint) {
  if (!endpoint) return;
  const name = label(host, Inputs.Endpoint);
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InputError(Inputs.Endpoint, `Input "${name}" is not a URL: "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(Inputs.Endpoint, `Input "${name}" must be an http:// or https:// URL, not "${endpoint}"`);
  }
  if (url.username || url.password) {
    throw new InputError(Inputs.Endpoint, `Input "${name}" must not contain credentials; use ${label(host, Inputs.AccessKeyId)} and ${label(host, Inputs.SecretAccessKey)}`);
  }
}

/**
 * Registers the secret inputs with the host's masker. Call this before anything else logs.
 * The access key id is masked too: it is half of a credential and identifies the account.
 */
function maskSecrets(host) {
  for (const name of [Inputs.SecretAccessKey, Inputs.AccessKeyId]) {
    const value = raw(host, name);
    if (value) host.setSecret(value);
  }
}

/**
 * The store inputs every flow shares (endpoint, region, bucket, prefix, the two credentials), into
 * `inputs`. Throws InputError naming the first bad one.
 */
function readConnection(host, inputs) {
  inputs.endpoint = getString(host, Inputs.Endpoint);
  checkEndpoint(host, inputs.endpoint);
  inputs.region = getString(host, Inputs.Region);
  inputs.bucket = getString(host, Inputs.Bucket);
  inputs.prefix = getString(host, Inputs.Prefix);
  checkSingleLine(host, Inputs.Bucket, inputs.bucket);
  checkSingleLine(host, Inputs.Prefix, inputs.prefix);

  inputs.accessKeyId = raw(host, Inputs.AccessKeyId);
  inputs.secretAccessKey = raw(host, Inputs.SecretAccessKey);
  if (inputs.accessKeyId && !inputs.secretAccessKey) {
    throw new InputError(Inputs.SecretAccessKey, `Input "${label(host, Inputs.SecretAccessKey)}" is required when "${label(host, Inputs.AccessKeyId)}" is set`);
  }
  if (inputs.secretAccessKey && !inputs.accessKeyId) {
    throw new InputError(Inputs.AccessKeyId, `Input "${label(host, Inputs.AccessKeyId)}" is required when "${label(host, Inputs.SecretAccessKey)}" is set`);
  }
  return inputs;
}

/**
 * `binary` and the s3pod version to use, into inputs.binary / inputs.version. versionInput names
 * the input holding the s3pod version (`version` for the cache actions; the artifact action's
 * `version` is an artifact version, so it reads `s3pod-version`).
 */
function readBinary(host, inputs, versionInput) {
  inputs.binary = getString(host, Inputs.Binary);
  inputs.version = getString(host, versionInput).replace(/^v/, '');
  if (inputs.version && !/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(inputs.version)) {
    throw new InputError(versionInput, `Input "${label(host, versionInput)}" must be a version such as 1.2.3, not "${inputs.version}"`);
  }
  return inputs;
}

/**
 * Reads and validates every input the flows share.
 * mode: 'restore' (main step, restore-only) or 'save' (post step, save-only).
 * `scope` is returned raw: its meaning is the host's (host.scopes). Throws InputError naming the
 * first bad input, spelled as the host spells it.
 */
function readInputs(host, mode = 'restore') {
  const inputs = {};
  inputs.key = getString(host, Inputs.Key, { required: true });
  checkKey(host, Inputs.Key, inputs.key);
  inputs.hashFiles = getList(host, Inputs.HashFiles);
  if (inputs.key.includes('{hash}') && inputs.hashFiles.length === 0) {
    throw new InputError(Inputs.HashFiles, `Input "${label(host, Inputs.Key)}" contains {hash}, so "${label(host, Inputs.HashFiles)}" must list the files to hash`);
  }

  inputs.dockerImage = getString(host, Inputs.DockerImage);
  inputs.paths = getList(host, Inputs.Path);
  if (inputs.dockerImage && inputs.paths.length > 0) {
    throw new InputError(Inputs.Path, `Inputs "${label(host, Inputs.Path)}" and "${label(host, Inputs.DockerImage)}" cannot be used together`);
  }
  if (!inputs.dockerImage && inputs.paths.length === 0) {
    throw new InputError(Inputs.Path, `Input required and not supplied: ${label(host, Inputs.Path)} (or ${label(host, Inputs.DockerImage)})`);
  }

  inputs.restoreKeys = getList(host, Inputs.RestoreKeys);
  inputs.restoreKeys.forEach((k) => checkKey(host, Inputs.RestoreKeys, k));

  readConnection(host, inputs);

  inputs.scope = raw(host, Inputs.Scope);
  inputs.readOnly = parseChoice(host, Inputs.ReadOnly, raw(host, Inputs.ReadOnly), ReadOnlyModes, 'auto');
  inputs.failOnError = getBoolean(host, Inputs.FailOnError, false);
  inputs.compressionLevel = getInteger(host, Inputs.CompressionLevel, 1, 19);
  inputs.update = getBoolean(host, Inputs.Update, false);
  readBinary(host, inputs, Inputs.Version);

  if (mode === 'restore') {
    inputs.failOnCacheMiss = getBoolean(host, Inputs.FailOnCacheMiss, false);
    inputs.lookupOnly = getBoolean(host, Inputs.LookupOnly, false);
  }
  inputs.save = parseChoice(host, Inputs.Save, raw(host, Inputs.Save), SaveModes, 'on-miss');
  return inputs;
}

/**
 * Maps a CI's job status to success | failure | cancelled | partial | unknown.
 * GitHub: success/failure/cancelled (job.status). Azure: Succeeded/SucceededWithIssues/Failed/Canceled.
 */
function normalizeJobStatus(value) {
  const v = String(value || '').trim().toLowerCase();
  if (v === 'success' || v === 'succeeded') return 'success';
  if (v === 'failure' || v === 'failed') return 'failure';
  if (v === 'cancelled' || v === 'canceled') return 'cancelled';
  if (v === 'succeededwithissues') return 'partial';
  return 'unknown';
}

module.exports = {
  readInputs, readConnection, readBinary, maskSecrets, normalizeJobStatus, parseChoice, getString, getList, getBoolean, getInteger,
  checkSingleLine, checkEndpoint, raw, label, MAX_KEY_BYTES,
};
