'use strict';

const { readInputs, maskSecrets } = require('./inputs');
const { computeScopes, resolveReadOnly, readEvent } = require('./scope');
const { locateBinary } = require('./binary');
const { runS3pod, binaryEnv, errorLine } = require('./run');
const { InputError, S3podError } = require('./errors');
const { Inputs } = require('./constants');

/**
 * Everything a restore or save needs: masked secrets, validated inputs, scopes, read-only decision
 * and the binary. Throws InputError / BinaryError.
 * options: { env, cwd, binaryOptions } (binaryOptions go to locateBinary, e.g. toolCacheDir).
 */
async function prepare(host, mode, options = {}) {
  maskSecrets(host);
  const inputs = readInputs(host, mode);
  const env = options.env || host.env || process.env;
  const event = readEvent(env);
  const scopes = computeScopes(inputs.scope, env, event);
  if (scopes.warning) host.warning(scopes.warning);
  const readOnly = resolveReadOnly(inputs.readOnly, env, event);
  const secrets = [inputs.secretAccessKey, inputs.accessKeyId].filter(Boolean);
  const ctx = {
    host,
    inputs,
    env,
    event,
    cwd: options.cwd || process.cwd(),
    scope: scopes.scope,
    fallbackScopes: scopes.fallbackScopes,
    readOnly: readOnly.readOnly,
    readOnlyReason: readOnly.reason,
    secrets,
    childEnv: binaryEnv(inputs, env),
    binary: null,
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

async function attachBinary(ctx, options = {}) {
  const found = await locateBinary({
    binary: ctx.inputs.binary,
    version: ctx.inputs.version || undefined,
    env: ctx.env,
    log: { info: (m) => ctx.host.info(m), debug: (m) => ctx.host.debug(m) },
    ...(options.binaryOptions || {}),
  });
  ctx.binary = found.path;
  return found;
}

/**
 * The concrete primary key. With hash-files the key is a template resolved by
 * `s3pod key <template> --hash-from <glob>...`: {hash} becomes the digest, and a template without
 * {hash} gets -<digest> from the binary (before any extension).
 */
async function resolveKey(ctx) {
  const { key, hashFiles } = ctx.inputs;
  if (hashFiles.length === 0) return key;
  const args = ['key', key];
  for (const glob of hashFiles) args.push('--hash-from', glob);
  const result = await ctx.run(args, { onStderr: (line) => ctx.host.debug(line) });
  const resolved = result.json && typeof result.json.key === 'string' ? result.json.key : '';
  if (result.exitCode !== 0 || !resolved) {
    throw new InputError(Inputs.HashFiles, `Could not resolve key "${key}" from hash-files: ${errorLine(result)}`);
  }
  if (/[\r\n]/.test(resolved)) throw new S3podError(`s3pod key returned an unusable key: ${resolved}`, 0, '');
  return resolved;
}

module.exports = { prepare, attachBinary, resolveKey };
