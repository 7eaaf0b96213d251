'use strict';

const { checkHost } = require('./host');
const { readInputs, maskSecrets } = require('./inputs');
const { locateBinary } = require('./binary');
const { runS3pod, binaryEnv, errorLine } = require('./run');
const { readKey } = require('./results');
const { InputError, S3podError } = require('./errors');
const { Inputs } = require('./constants');

/**
 * `read-only` ('auto' | 'true' | 'false') -> { readOnly, reason }. 'auto' asks the host whether
 * this run was started by code from outside the repository (a fork's pull request,
 * pull_request_target): such code must not write caches that trusted runs restore.
 */
function resolveReadOnly(mode, host) {
  const name = host.inputName(Inputs.ReadOnly);
  if (mode === 'true') return { readOnly: true, reason: `${name} is true` };
  if (mode === 'false') return { readOnly: false, reason: '' };
  const untrusted = host.untrustedReason();
  return untrusted ? { readOnly: true, reason: `${untrusted} (${name}: auto)` } : { readOnly: false, reason: '' };
}

/**
 * Everything a restore or save needs: masked secrets, validated inputs, scopes, the read-only
 * decision, and `run(args)` for the binary (attachBinary finds it). Throws InputError.
 */
function prepare(host, mode) {
  checkHost(host);
  maskSecrets(host);
  const inputs = readInputs(host, mode);
  if (host.checkInputs) host.checkInputs(inputs);
  const scopes = host.scopes(inputs.scope);
  if (scopes.warning) host.warning(scopes.warning);
  const readOnly = resolveReadOnly(inputs.readOnly, host);
  return makeContext(host, inputs, {
    scope: scopes.scope,
    fallbackScopes: scopes.fallbackScopes,
    readOnly: readOnly.readOnly,
    readOnlyReason: readOnly.reason,
  });
}

/**
 * The context the flows share: `inputs` (with the connection and binary inputs read), the host,
 * and `run(args)` for the binary once attachBinary has found it. `extra` is merged in.
 */
function makeContext(host, inputs, extra = {}) {
  const secrets = [inputs.secretAccessKey, inputs.accessKeyId].filter(Boolean);
  const ctx = {
    host,
    inputs,
    cwd: host.cwd,
    scope: null,
    fallbackScopes: [],
    readOnly: false,
    readOnlyReason: '',
    childEnv: binaryEnv(inputs, host.env),
    binary: null,
    ...extra,
  };
  ctx.run = (args, runOptions = {}) => runS3pod(ctx.binary, args, {
    env: ctx.childEnv,
    cwd: ctx.cwd,
    secrets,
    // The binary's own warnings ("s3pod: warning: ...") become warnings; everything else is log.
    onStderr: (line) => {
      const warning = /^s3pod: warning: (.*)$/.exec(line);
      if (warning) host.warning(warning[1]);
      else host.info(line);
    },
    ...runOptions,
  });
  return ctx;
}

async function attachBinary(ctx) {
  const { host, inputs } = ctx;
  const found = await locateBinary({
    binary: inputs.binary,
    binaryInput: host.inputName(Inputs.Binary),
    version: inputs.version || undefined,
    env: host.env,
    runner: host.runner(),
    ...host.toolOptions(),
    log: { info: (m) => host.info(m), debug: (m) => host.debug(m) },
  });
  ctx.binary = found.path;
  return found;
}

/** An s3pod template: `{hash}` in the key, or files to hash. */
function isTemplate(inputs) {
  return inputs.hashFiles.length > 0 || inputs.key.includes('{hash}');
}

/** `s3pod key <template> --hash-from <glob>...` -> the concrete key. */
async function templateKey(ctx, template) {
  const { host, inputs } = ctx;
  const args = ['key', template];
  for (const glob of inputs.hashFiles) args.push('--hash-from', glob);
  const result = await ctx.run(args, { onStderr: (line) => host.debug(line) });
  const resolved = readKey(result.json);
  if (result.exitCode !== 0 || !resolved) {
    throw new InputError(Inputs.HashFiles, `Could not resolve key "${template}" from ${host.inputName(Inputs.HashFiles)}: ${errorLine(result)}`);
  }
  if (/[\r\n]/.test(resolved)) throw new S3podError(`s3pod key returned an unusable key: ${resolved}`, 0, '');
  return resolved;
}

/**
 * The concrete primary key and restore keys: { primaryKey, restoreKeys, description }.
 * A template goes through the binary (`{hash}` becomes the digest of hash-files; a template
 * without `{hash}` gets -<digest> before any extension); so does each restore key containing
 * `{hash}`, while the others are prefixes used as written. Any other key is the host's to
 * resolve (Azure: Cache@2 syntax), or used as written.
 */
async function resolveKeys(ctx) {
  const { host, inputs } = ctx;
  if (!isTemplate(inputs)) {
    if (host.literalKeys) return host.literalKeys(inputs);
    return { primaryKey: inputs.key, restoreKeys: inputs.restoreKeys, description: '' };
  }
  const primaryKey = await templateKey(ctx, inputs.key);
  const restoreKeys = [];
  for (const line of inputs.restoreKeys) restoreKeys.push(line.includes('{hash}') ? await templateKey(ctx, line) : line);
  const files = inputs.hashFiles.join(', ');
  return { primaryKey, restoreKeys, description: `template ${inputs.key}${files ? `, ${host.inputName(Inputs.HashFiles)} ${files}` : ''}` };
}

module.exports = { prepare, makeContext, attachBinary, resolveKeys, resolveReadOnly, isTemplate };
