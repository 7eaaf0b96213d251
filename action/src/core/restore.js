'use strict';

const { prepare, attachBinary, resolveKey } = require('./context');
const { globalArgs, errorLine } = require('./run');
const { Outputs, State, ExitCodes } = require('./constants');
const { summaryTable, formatBytes, formatDuration, formatThroughput, code } = require('./summary');
const { reportFailure } = require('./report');

function setOutputs(host, { cacheHit, primaryKey, matchedKey, size }) {
  host.setOutput(Outputs.CacheHit, cacheHit ? 'true' : 'false');
  host.setOutput(Outputs.PrimaryKey, primaryKey || '');
  host.setOutput(Outputs.MatchedKey, matchedKey || '');
  host.setOutput(Outputs.CacheSize, size == null ? '' : String(size));
}

function restoreArgs(ctx, primaryKey) {
  const { inputs } = ctx;
  if (inputs.dockerImage) {
    return inputs.lookupOnly
      ? ['docker', 'exists', primaryKey, ...globalArgs(inputs)]
      : ['docker', 'download', primaryKey, inputs.dockerImage, ...globalArgs(inputs)];
  }
  const args = ['restore', '--key', primaryKey];
  for (const k of inputs.restoreKeys) args.push('--restore-key', k);
  for (const p of inputs.paths) args.push('--path', p);
  if (ctx.scope) args.push('--scope', ctx.scope);
  for (const s of ctx.fallbackScopes) args.push('--fallback-scope', s);
  if (inputs.lookupOnly) args.push('--lookup-only');
  args.push(...globalArgs(inputs));
  return args;
}

/** Maps the binary's result to { ok, matchedKey, exactMatch, matchedScope, size, error }. */
function interpretRestore(ctx, primaryKey, result) {
  const { inputs } = ctx;
  if (inputs.dockerImage) {
    if (result.exitCode === ExitCodes.Success) {
      const size = result.json?.size ?? null;
      return { ok: true, matchedKey: primaryKey, exactMatch: true, matchedScope: null, size };
    }
    if (result.exitCode === ExitCodes.NotFound || result.exitCode === ExitCodes.CacheMiss) {
      return { ok: true, matchedKey: null, exactMatch: false, matchedScope: null, size: null };
    }
    return { ok: false, error: result };
  }
  if (result.exitCode !== ExitCodes.Success || !result.json) return { ok: false, error: result };
  const j = result.json;
  return {
    ok: true,
    matchedKey: j.matchedKey || null,
    exactMatch: j.exactMatch === true && !!j.matchedKey,
    matchedScope: j.matchedScope || null,
    size: j.size ?? null,
  };
}

/**
 * The restore decision flow (the combined action's main step, and restore/).
 * options.saveState: true for the combined action (the post step reads the state); false for restore/.
 * Resolves { status: 'hit'|'partial'|'miss'|'error'|'failed', primaryKey, matchedKey, ... }.
 * Never throws: problems become host.setFailed (bad input, binary, fail-on-cache-miss,
 * fail-on-error) or host.warning (storage errors).
 */
async function runRestore(host, options = {}) {
  const saveState = options.saveState !== false;
  let primaryKey = '';
  try {
    const ctx = await prepare(host, 'restore', options);
    primaryKey = ctx.inputs.key;
    const { inputs } = ctx;
    await attachBinary(ctx, options);
    primaryKey = await resolveKey(ctx);

    if (saveState) {
      host.saveState(State.PrimaryKey, primaryKey);
      host.saveState(State.Scope, ctx.scope || '');
      host.saveState(State.ReadOnly, ctx.readOnly ? 'true' : 'false');
      host.saveState(State.ReadOnlyReason, ctx.readOnlyReason);
      host.saveState(State.Binary, ctx.binary);
      host.saveState(State.RestoreRan, 'true');
    }

    const scopes = [ctx.scope, ...ctx.fallbackScopes].filter(Boolean);
    host.info(`Restoring cache for key ${primaryKey}${scopes.length ? ` (scopes: ${scopes.join(', ')})` : ''}`);
    const result = await ctx.run(restoreArgs(ctx, primaryKey));
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
      host.info(`Cache not found for input keys: ${[primaryKey, ...inputs.restoreKeys].join(', ')}`);
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
      ['Scope', code(r.matchedScope || ctx.scope)],
      ['Size', formatBytes(r.size)],
      ['Time', formatDuration(result.durationMs)],
      ['Throughput', inputs.lookupOnly ? '-' : formatThroughput(r.size, result.durationMs)],
      ...(saveState && ctx.readOnly ? [['Read-only', ctx.readOnlyReason]] : []),
    ]));

    if (status === 'miss' && inputs.failOnCacheMiss) {
      host.setFailed(`Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: ${primaryKey}`);
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
