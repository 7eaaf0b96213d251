'use strict';

const fs = require('node:fs');
const { prepare, attachBinary, resolveKey } = require('./context');
const { maskSecrets } = require('./inputs');
const { globalArgs, errorLine } = require('./run');
const { State, ExitCodes } = require('./constants');
const { summaryTable, formatBytes, formatDuration, formatThroughput, code } = require('./summary');
const { reportFailure } = require('./report');

function saveArgs(ctx, key) {
  const { inputs } = ctx;
  const level = inputs.compressionLevel !== undefined ? ['--level', String(inputs.compressionLevel)] : [];
  if (inputs.dockerImage) return ['docker', 'upload', key, inputs.dockerImage, ...level, ...globalArgs(inputs)];
  const args = ['save', '--key', key];
  for (const p of inputs.paths) args.push('--path', p);
  if (ctx.scope) args.push('--scope', ctx.scope);
  args.push(...level);
  args.push(...globalArgs(inputs));
  return args;
}

/**
 * Whether the post step saves, from the restore step's state and the job status.
 * Returns { save: boolean, reason: string }. Pure: unit-testable without a host.
 *   never after an exact hit; never when read-only; save 'never' never saves;
 *   'on-miss' saves only when the job has not failed or been cancelled (unknown status counts as
 *   success, as a post step that cannot see the status would); 'always' saves whatever the status.
 */
function decideSave({ restoreRan, exactMatch, primaryKey, readOnly, readOnlyReason, save, jobStatus }) {
  if (!restoreRan) return { save: false, reason: 'the restore step did not complete, so there is no key to save under' };
  if (readOnly) return { save: false, reason: `read-only: ${readOnlyReason || 'read-only is true'}` };
  if (exactMatch) return { save: false, reason: `cache hit occurred on the primary key ${primaryKey}` };
  if (save === 'never') return { save: false, reason: 'save is never' };
  if (save === 'on-miss' && jobStatus !== 'success' && jobStatus !== 'unknown') {
    return { save: false, reason: `the job status is ${jobStatus} (set save: always to save anyway)` };
  }
  return { save: true, reason: '' };
}

async function doSave(ctx, key, options) {
  const { host, inputs } = ctx;
  host.info(`Saving cache with key ${key}${ctx.scope ? ` to scope ${ctx.scope}` : ''}`);
  const result = await ctx.run(saveArgs(ctx, key));
  const j = result.json || {};
  if (result.exitCode !== ExitCodes.Success) {
    const message = `Failed to save cache: ${errorLine(result)}`;
    if (inputs.failOnError) host.setFailed(message);
    else host.warning(message);
    return { status: 'error', key, message };
  }
  const skipped = j.saved === false || j.skipped === true;
  if (skipped) {
    host.info(`Cache with key ${key} already exists${ctx.scope ? ` in scope ${ctx.scope}` : ''}; not saving`);
  } else {
    host.info(`Cache saved with key ${key}${j.size != null ? ` (${formatBytes(j.size)} in ${formatDuration(result.durationMs)})` : ''}`);
  }
  host.summary(summaryTable('s3pod cache save', [
    ['Result', skipped ? `skipped (${j.skippedReason || 'exists'})` : 'saved'],
    ['Key', code(key)],
    ['Scope', code(ctx.scope)],
    ['Size', formatBytes(j.size)],
    ['Files', j.files ?? '-'],
    ['Uncompressed', formatBytes(j.uncompressedSize)],
    ['Time', formatDuration(result.durationMs)],
    ['Throughput', skipped ? '-' : formatThroughput(j.size, result.durationMs)],
    ...(options.jobStatus && options.jobStatus !== 'success' ? [['Job status', options.jobStatus]] : []),
  ]));
  return { status: skipped ? 'exists' : 'saved', key, size: j.size ?? null };
}

/**
 * The post step of the combined action: decides from the state the restore step saved and the
 * job status, then saves. Resolves { status: 'saved'|'exists'|'skipped'|'error'|'failed', reason }.
 * Never throws.
 */
async function runPostSave(host, options = {}) {
  try {
    maskSecrets(host);
    const restoreRan = host.getState(State.RestoreRan) === 'true';
    if (!restoreRan) {
      const reason = 'the restore step did not complete, so there is nothing to save';
      host.info(`Not saving: ${reason}`);
      return { status: 'skipped', reason };
    }
    const ctx = await prepare(host, 'save', options);
    // The state from the restore step wins over a re-evaluation: the key and scopes are the ones
    // the restore used, even if files behind hash-files changed during the job.
    const primaryKey = host.getState(State.PrimaryKey);
    ctx.scope = host.getState(State.Scope) || null;
    ctx.readOnly = host.getState(State.ReadOnly) === 'true';
    ctx.readOnlyReason = host.getState(State.ReadOnlyReason);
    const decision = decideSave({
      restoreRan,
      exactMatch: host.getState(State.ExactMatch) === 'true',
      primaryKey,
      readOnly: ctx.readOnly,
      readOnlyReason: ctx.readOnlyReason,
      save: ctx.inputs.save,
      jobStatus: ctx.inputs.jobStatus,
    });
    if (!decision.save) {
      host.info(`Not saving: ${decision.reason}`);
      return { status: 'skipped', reason: decision.reason };
    }
    const stateBinary = host.getState(State.Binary);
    if (stateBinary && !ctx.inputs.binary && fs.existsSync(stateBinary)) ctx.binary = stateBinary;
    else await attachBinary(ctx, options);
    return await doSave(ctx, primaryKey, { jobStatus: ctx.inputs.jobStatus });
  } catch (err) {
    reportFailure(host, err);
    return { status: 'failed', reason: err.message };
  }
}

/**
 * save/: saves unconditionally (the workflow decides when with `if:`), except when read-only.
 * The binary skips the upload when the key already exists in the scope.
 */
async function runSaveOnly(host, options = {}) {
  try {
    const ctx = await prepare(host, 'save', options);
    if (ctx.readOnly) {
      host.info(`Not saving: read-only: ${ctx.readOnlyReason}`);
      return { status: 'skipped', reason: ctx.readOnlyReason };
    }
    await attachBinary(ctx, options);
    const key = await resolveKey(ctx);
    return await doSave(ctx, key, {});
  } catch (err) {
    reportFailure(host, err);
    return { status: 'failed', reason: err.message };
  }
}

module.exports = { runPostSave, runSaveOnly, decideSave, saveArgs };
