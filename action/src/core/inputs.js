'use strict';

const { InputError } = require('./errors');
const { Inputs, ScopeModes, ReadOnlyModes, SaveModes } = require('./constants');

const MAX_KEY_LENGTH = 512;

function raw(host, name) {
  const value = host.getInput(name);
  return value == null ? '' : String(value).trim();
}

function getString(host, name, { required = false } = {}) {
  const value = raw(host, name);
  if (required && !value) {
    throw new InputError(name, `Input required and not supplied: ${name}`);
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
  throw new InputError(name, `Input "${name}" must be true or false, not "${value}"`);
}

function getChoice(host, name, allowed, fallback) {
  const value = raw(host, name).toLowerCase();
  if (!value) return fallback;
  if (!allowed.includes(value)) {
    throw new InputError(name, `Input "${name}" must be one of ${allowed.join(', ')}, not "${value}"`);
  }
  return value;
}

function getInteger(host, name, min, max) {
  const value = raw(host, name);
  if (!value) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(name, `Input "${name}" must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return Number(value);
}

function checkKey(name, key) {
  if (/[\r\n]/.test(key)) throw new InputError(name, `Input "${name}" must be a single line`);
  if (key.length > MAX_KEY_LENGTH) {
    throw new InputError(name, `Input "${name}" is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`);
  }
}

function checkEndpoint(endpoint) {
  if (!endpoint) return;
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InputError(Inputs.Endpoint, `Input "endpoint" is not a URL: "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(Inputs.Endpoint, `Input "endpoint" must be an http:// or https:// URL, not "${endpoint}"`);
  }
  if (url.username || url.password) {
    throw new InputError(Inputs.Endpoint, 'Input "endpoint" must not contain credentials; use access-key-id and secret-access-key');
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
 * Reads and validates every input.
 * mode: 'restore' (combined main step and restore/ sub-action), 'save' (post step and save/ sub-action).
 * Throws InputError naming the first bad input.
 */
function readInputs(host, mode = 'restore') {
  const inputs = {};
  inputs.key = getString(host, Inputs.Key, { required: true });
  checkKey(Inputs.Key, inputs.key);
  inputs.hashFiles = getList(host, Inputs.HashFiles);
  if (inputs.key.includes('{hash}') || inputs.hashFiles.length > 0) {
    if (inputs.hashFiles.length === 0) {
      throw new InputError(Inputs.HashFiles, 'Input "key" contains {hash}, so "hash-files" must list the files to hash');
    }
  }

  inputs.dockerImage = getString(host, Inputs.DockerImage);
  inputs.paths = getList(host, Inputs.Path);
  if (inputs.dockerImage && inputs.paths.length > 0) {
    throw new InputError(Inputs.Path, 'Inputs "path" and "docker-image" cannot be used together');
  }
  if (!inputs.dockerImage && inputs.paths.length === 0) {
    throw new InputError(Inputs.Path, 'Input required and not supplied: path (or docker-image)');
  }

  inputs.restoreKeys = getList(host, Inputs.RestoreKeys);
  inputs.restoreKeys.forEach((k) => checkKey(Inputs.RestoreKeys, k));
  if (inputs.dockerImage && inputs.restoreKeys.length > 0) {
    throw new InputError(Inputs.RestoreKeys, 'Input "restore-keys" is not supported with "docker-image" (image caches match exact keys only)');
  }

  inputs.endpoint = getString(host, Inputs.Endpoint);
  checkEndpoint(inputs.endpoint);
  inputs.region = getString(host, Inputs.Region);
  inputs.bucket = getString(host, Inputs.Bucket);
  inputs.prefix = getString(host, Inputs.Prefix);
  if (/[\r\n]/.test(inputs.bucket)) throw new InputError(Inputs.Bucket, 'Input "bucket" must be a single line');
  if (/[\r\n]/.test(inputs.prefix)) throw new InputError(Inputs.Prefix, 'Input "prefix" must be a single line');

  inputs.accessKeyId = raw(host, Inputs.AccessKeyId);
  inputs.secretAccessKey = raw(host, Inputs.SecretAccessKey);
  if (inputs.accessKeyId && !inputs.secretAccessKey) {
    throw new InputError(Inputs.SecretAccessKey, 'Input "secret-access-key" is required when "access-key-id" is set');
  }
  if (inputs.secretAccessKey && !inputs.accessKeyId) {
    throw new InputError(Inputs.AccessKeyId, 'Input "access-key-id" is required when "secret-access-key" is set');
  }

  inputs.scope = getChoice(host, Inputs.Scope, ScopeModes, 'ref');
  inputs.readOnly = getChoice(host, Inputs.ReadOnly, ReadOnlyModes, 'auto');
  inputs.failOnError = getBoolean(host, Inputs.FailOnError, false);
  inputs.compressionLevel = getInteger(host, Inputs.CompressionLevel, 1, 19);
  inputs.binary = getString(host, Inputs.Binary);
  inputs.version = getString(host, Inputs.Version).replace(/^v/, '');
  if (inputs.version && !/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(inputs.version)) {
    throw new InputError(Inputs.Version, `Input "version" must be a version such as 1.2.3, not "${inputs.version}"`);
  }

  if (mode === 'restore') {
    inputs.failOnCacheMiss = getBoolean(host, Inputs.FailOnCacheMiss, false);
    inputs.lookupOnly = getBoolean(host, Inputs.LookupOnly, false);
  }
  inputs.save = getChoice(host, Inputs.Save, SaveModes, 'on-miss');
  inputs.jobStatus = normalizeJobStatus(raw(host, Inputs.JobStatus));
  return inputs;
}

/**
 * Maps a host's job status to success | failure | cancelled | partial | unknown.
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

module.exports = { readInputs, maskSecrets, normalizeJobStatus, getList, getBoolean, MAX_KEY_LENGTH };
