'use strict';

const fs = require('node:fs');
const { prepare, attachBinary, resolveKeys, isTemplate } = require('./context');
const { maskSecrets } = require('./inputs');
const { globalArgs, errorLine } = require('./run');
const { readSave } = require('./results');
const { State, ExitCodes } = require('./constants');
const { summaryTable, formatBytes, formatDuration, formatThroughput, code } = require('./summary');
const { reportFailure } = require('./report');

function saveArgs(ctx, key) {
  const { inputs } = ctx;
  const level = inputs.compressionLevel !== undefined ? ['--level', String(inputs.compressionLevel)] : [];
  const args = ['save', '--key', key];
  if (inputs.dockerImage) args.push('--docker-image', inputs.dockerImage);
  for (const p of inputs.paths) args.push('--path', p);
  if (ctx.scope) args.push('--scope', ctx.scope);
  if (inputs.update) args.push('--update');
  args.push(...level);
  args.push(...globalArgs(inputs));
  return args;
}

/**
 * Whether the post step saves, from the restore step's state and the job status.
 * Returns { save: boolean, reason: string }. Pure: unit-testable without a host.
 *   never after an exact hit (unless update: the entry is replaced when the tree changed); never when read-only; save 'never' never saves;
 *   'on-miss' saves only when the job succeeded, or when its status is 'unknown' (a host that
 *   cannot see the status says so; a host that must not guess passes its own word instead);
 *   'always' saves whatever the status.
 */
function decideSave({ restoreRan, exactMatch, primaryKey, readOnly, readOnlyReason, save, jobStatus, update }) {
  if (!restoreRan) return { save: false, reason: 'the restore step did not complete, so there is no key to save under' };
  if (readOnly) return { save: false, reason: `read-only: ${readOnlyReason || 'read-only is true'}` };
  if (exactMatch && !update) return { save: false, reason: `cache hit occurred on the primary key ${primaryKey}` };
  if (save === 'never') return { save: false, reason: 'save is never' };
  if (save === 'on-miss' && jobStatus !== 'success' && jobStatus !== 'unknown') {
    return { save: false, reason: `the job status is ${jobStatus} (set save: always to save anyway)` };
  }
  return { save: true, reason: '' };
}

async function doSave(ctx, key, { jobStatus } = {}) {
  const { host, inputs } = ctx;
  const what = inputs.dockerImage ? `image ${inputs.dockerImage}` : 'cache';
  host.info(`Saving ${what} with key ${key}${ctx.scope ? ` to scope ${ctx.scope}` : ''}`);
  const result = await ctx.run(saveArgs(ctx, key));
  if (result.exitCode !== ExitCodes.Success) {
    const message = `Failed to save cache: ${errorLine(result)}`;
    if (inputs.failOnError) host.setFailed(message);
    else host.warning(message);
    return { status: 'error', key, message };
  }
  const r = readSave(result.json);
  const skipped = !r.saved;
  if (skipped && r.skippedReason === 'unchanged') {
    host.info(`Cache with key ${key} is unchanged${ctx.scope ? ` in scope ${ctx.scope}` : ''}; not updating`);
  } else if (skipped) {
    host.info(`Cache with key ${key} already exists${ctx.scope ? ` in scope ${ctx.scope}` : ''}; not saving`);
  } else {
    host.info(`Cache saved with key ${key}${r.size != null ? ` (${formatBytes(r.size)} in ${formatDuration(result.durationMs)})` : ''}`);
  }
  host.summary(summaryTable('s3pod cache save', [
    ['Result', skipped ? `skipped (${r.skippedReason || 'exists'})` : 'saved'],
    ['Key', code(key)],
    ['Scope', code(ctx.scope)],
    ['Size', formatBytes(r.size)],
    ['Files', inputs.dockerImage ? '-' : r.files ?? '-'],
    ['Uncompressed', formatBytes(r.uncompressedSize)],
    ...(r.uploadedBytes != null ? [['Uploaded', `${formatBytes(r.uploadedBytes)} (the rest was in the store)`]] : []),
    ['Time', formatDuration(result.durationMs)],
    ['Throughput', skipped ? '-' : formatThroughput(r.size, result.durationMs)],
    ...(jobStatus && jobStatus !== 'success' ? [['Job status', jobStatus]] : []),
  ]));
  return { status: skipped ? 'exists' : 'saved', key, size: r.size };
}

/**
 * Cache@2's check: the key is resolved again from the files as they are now; when it moved
 * during the job, say so (the save keeps the restore's key, which the next run will look for
 * only if the files go back). A literal key cannot move, and a key that no longer resolves is
 * not this step's problem.
 */
async function warnIfKeyChanged(ctx, primaryKey) {
  const { host, inputs } = ctx;
  if (!isTemplate(inputs) && !host.literalKeys) return;
  try {
    const now = (await resolveKeys({ ...ctx, inputs: { ...inputs, restoreKeys: [] } })).primaryKey;
    if (now !== primaryKey) {
      host.warning(`The cache key changed during the job (now ${now}); saving under the key computed at restore: ${primaryKey}`);
    }
  } catch (err) {
    host.debug(`Could not resolve the key again: ${err.message}`);
  }
}

/** The paths the restore step recorded (the same inputs could glob differently now). */
function recordedPaths(host, fallback) {
  try {
    const paths = JSON.parse(host.getState(State.Paths) || 'null');
    return Array.isArray(paths) ? paths : fallback;
  } catch {
    return fallback;
  }
}

/**
 * The post step (the combined action's, the Azure task's): decides from the state the restore
 * step saved and the job status, then saves. Resolves { status: 'saved'|'exists'|'skipped'|'error'|
 * 'failed', reason }. Never throws. The job's real work is done by now, so a failure here is a
 * warning unless fail-on-error is set.
 */
async function runPostSave(host) {
  let failOnError = false;
  try {
    maskSecrets(host);
    const restoreRan = host.getState(State.RestoreRan) === 'true';
    if (!restoreRan) {
      const reason = 'the restore step did not complete, so there is nothing to save';
      host.info(`Not saving: ${reason}`);
      return { status: 'skipped', reason };
    }
    const ctx = prepare(host, 'save');
    failOnError = ctx.inputs.failOnError;
    // The restore step's key, scope and paths win over a re-evaluation: the save must land where
    // the next restore will look. Read-only holds if either step says so.
    const primaryKey = host.getState(State.PrimaryKey);
    ctx.scope = host.getState(State.Scope) || null;
    ctx.inputs.paths = recordedPaths(host, ctx.inputs.paths);
    if (host.getState(State.ReadOnly) === 'true') {
      ctx.readOnly = true;
      ctx.readOnlyReason = host.getState(State.ReadOnlyReason) || ctx.readOnlyReason;
    }
    const jobStatus = host.jobStatus();
    const decision = decideSave({
      restoreRan,
      exactMatch: host.getState(State.ExactMatch) === 'true',
      primaryKey,
      readOnly: ctx.readOnly,
      readOnlyReason: ctx.readOnlyReason,
      save: ctx.inputs.save,
      jobStatus,
      update: ctx.inputs.update,
    });
    if (!decision.save) {
      host.info(`Not saving: ${decision.reason}`);
      return { status: 'skipped', reason: decision.reason };
    }
    const stateBinary = host.getState(State.Binary);
    if (stateBinary && !ctx.inputs.binary && fs.existsSync(stateBinary)) ctx.binary = stateBinary;
    else await attachBinary(ctx);
    await warnIfKeyChanged(ctx, primaryKey);
    return await doSave(ctx, primaryKey, { jobStatus });
  } catch (err) {
    reportFailure(host, err, { warn: !failOnError, context: 'Failed to save cache' });
    return { status: 'failed', reason: err.message };
  }
}

/**
 * save/: saves unconditionally (the workflow decides when with `if:`), except when read-only.
 * The binary skips the upload when the key already exists in the scope.
 */
async function runSaveOnly(host) {
  try {
    const ctx = prepare(host, 'save');
    if (ctx.readOnly) {
      host.info(`Not saving: read-only: ${ctx.readOnlyReason}`);
      return { status: 'skipped', reason: ctx.readOnlyReason };
    }
    await attachBinary(ctx);
    const keys = await resolveKeys(ctx);
    if (keys.description) host.info(`Key resolved to: ${keys.primaryKey} (${keys.description})`);
    return await doSave(ctx, keys.primaryKey);
  } catch (err) {
    reportFailure(host, err);
    return { status: 'failed', reason: err.message };
  }
}

module.exports = { runPostSave, runSaveOnly, decideSave, saveArgs };
