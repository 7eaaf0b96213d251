'use strict';

const { prepare, attachBinary, resolveKeys } = require('./context');
const { globalArgs, errorLine } = require('./run');
const { readRestore } = require('./results');
const { Outputs, State, ExitCodes, Inputs } = require('./constants');
const { summaryTable, formatBytes, formatDuration, formatThroughput, code, cell } = require('./summary');
const { reportFailure } = require('./report');

function setOutputs(host, { cacheHit, primaryKey, matchedKey, size }) {
  host.setOutput(Outputs.CacheHit, cacheHit ? 'true' : 'false');
  host.setOutput(Outputs.PrimaryKey, primaryKey || '');
  host.setOutput(Outputs.MatchedKey, matchedKey || '');
  host.setOutput(Outputs.CacheSize, size == null ? '' : String(size));
}

function restoreArgs(ctx, primaryKey, restoreKeys = ctx.inputs.restoreKeys) {
  const { inputs } = ctx;
  const args = ['restore', '--key', primaryKey];
  for (const k of restoreKeys) args.push('--restore-key', k);
  // An image is a cache entry like paths: same restore keys, scopes and lookup-only.
  if (inputs.dockerImage) args.push('--docker-image', inputs.dockerImage);
  for (const p of inputs.paths) args.push('--path', p);
  if (ctx.scope) args.push('--scope', ctx.scope);
  for (const s of ctx.fallbackScopes) args.push('--fallback-scope', s);
  if (inputs.lookupOnly) args.push('--lookup-only');
  args.push(...globalArgs(inputs));
  return args;
}

/**
 * The binary's answer as { ok, matchedKey, exactMatch, matchedScope, size, miss }; ok is false on
 * an error exit. Paths and images answer alike (`restore --path` / `restore --docker-image`).
 */
function interpretRestore(ctx, primaryKey, result) {
  if (result.exitCode !== ExitCodes.Success || !result.json) return { ok: false };
  return { ok: true, ...readRestore(result.json) };
}

/** The binary's account of a miss, one log line each: its summary, then every reason. */
function explainMiss(host, why) {
  if (!why) return;
  if (why.summary) host.info(`Why: ${why.summary}`);
  for (const reason of why.reasons) host.info(`  - ${reason}`);
}

/**
 * The restore flow (the combined action's main step, restore/, the Azure task's main step).
 * options.saveState: true when a post step follows (it reads the state); false for restore/.
 * Resolves { status: 'hit'|'partial'|'miss'|'error'|'failed', primaryKey, matchedKey, ... }.
 * Never throws: problems become host.setFailed (bad input, binary, fail-on-cache-miss,
 * fail-on-error) or host.warning (storage errors).
 */
async function runRestore(host, options = {}) {
  const saveState = options.saveState !== false;
  let primaryKey = '';
  try {
    const ctx = prepare(host, 'restore');
    const { inputs } = ctx;
    primaryKey = inputs.key;
    await attachBinary(ctx);
    const keys = await resolveKeys(ctx);
    primaryKey = keys.primaryKey;
    if (keys.description) host.info(`Key resolved to: ${primaryKey} (${keys.description})`);

    // Written before the restore, so that a restore that fails on storage still leads to a save,
    // as a miss would.
    if (saveState) {
      host.saveState(State.PrimaryKey, primaryKey);
      host.saveState(State.Scope, ctx.scope || '');
      host.saveState(State.Paths, JSON.stringify(inputs.paths));
      host.saveState(State.ReadOnly, ctx.readOnly ? 'true' : 'false');
      host.saveState(State.ReadOnlyReason, ctx.readOnlyReason);
      host.saveState(State.Binary, ctx.binary);
      host.saveState(State.RestoreRan, 'true');
    }

    const scopes = [ctx.scope, ...ctx.fallbackScopes].filter(Boolean);
    host.info(`Restoring ${inputs.dockerImage ? `image ${inputs.dockerImage}` : 'cache'} for key ${primaryKey}${scopes.length ? ` (scopes: ${scopes.join(', ')})` : ''}`);
    const result = await ctx.run(restoreArgs(ctx, primaryKey, keys.restoreKeys));
    const r = interpretRestore(ctx, primaryKey, result);

    if (!r.ok) {
      const kind = result.exitCode === ExitCodes.Integrity ? 'integrity check failed' : 'storage error';
      const message = `Failed to restore cache (${kind}): ${errorLine(result)}`;
      setOutputs(host, { cacheHit: false, primaryKey, matchedKey: '', size: null });
      if (inputs.failOnError || inputs.failOnCacheMiss) host.setFailed(message);
      else host.warning(message);
      return { status: 'error', primaryKey, message };
    }

    if (saveState) {
      host.saveState(State.MatchedKey, r.matchedKey || '');
      host.saveState(State.ExactMatch, r.exactMatch ? 'true' : 'false');
    }
    setOutputs(host, { cacheHit: r.exactMatch, primaryKey, matchedKey: r.matchedKey, size: r.size });

    const status = !r.matchedKey ? 'miss' : r.exactMatch ? 'hit' : 'partial';
    const where = r.matchedScope ? ` in scope ${r.matchedScope}` : '';
    const how = r.size != null ? ` (${formatBytes(r.size)} in ${formatDuration(result.durationMs)})` : '';
    if (status === 'miss') {
      host.info(`Cache not found for input keys: ${[primaryKey, ...keys.restoreKeys].join(', ')}`);
      explainMiss(host, r.miss);
    } else if (inputs.lookupOnly) {
      host.info(`Cache found for key ${r.matchedKey}${where}; lookup-only, nothing restored`);
    } else {
      host.info(`Cache restored from ${status === 'hit' ? 'key' : 'restore key'} ${r.matchedKey}${where}${how}`);
    }
    if (saveState && ctx.readOnly && status !== 'hit') {
      host.info(`This job will not save the cache: ${ctx.readOnlyReason}`);
    }

    host.summary(summaryTable('s3pod cache restore', [
      ['Result', { hit: 'exact hit', partial: 'restore-key hit', miss: 'miss' }[status] + (inputs.lookupOnly ? ' (lookup only)' : '')],
      ['Primary key', code(primaryKey)],
      ['Matched key', code(r.matchedKey)],
      ...(r.miss?.summary ? [['Why', cell(r.miss.summary)]] : []),
      ['Scope', code(r.matchedScope || ctx.scope)],
      ['Size', formatBytes(r.size)],
      ['Time', formatDuration(result.durationMs)],
      ['Throughput', inputs.lookupOnly ? '-' : formatThroughput(r.size, result.durationMs)],
      ...(saveState && ctx.readOnly ? [['Read-only', ctx.readOnlyReason]] : []),
    ]));

    if (status === 'miss' && inputs.failOnCacheMiss) {
      host.setFailed(`Failed to restore cache entry. Exiting as ${host.inputName(Inputs.FailOnCacheMiss)} is set. Input key: ${primaryKey}`);
      return { status: 'failed', primaryKey };
    }
    return { status, primaryKey, matchedKey: r.matchedKey, exactMatch: r.exactMatch, matchedScope: r.matchedScope, size: r.size };
  } catch (err) {
    setOutputs(host, { cacheHit: false, primaryKey, matchedKey: '', size: null });
    reportFailure(host, err);
    return { status: 'failed', primaryKey, message: err.message };
  }
}

module.exports = { runRestore, restoreArgs, interpretRestore };
