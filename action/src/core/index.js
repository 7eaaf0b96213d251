'use strict';

/*
 * s3pod wrapper core: host-agnostic logic shared by the GitHub Action (action/src/*.js) and the
 * Azure Pipelines task. CommonJS, Node built-ins only, Node >= 20. All cache logic lives in the
 * s3pod binary; this core finds the binary, turns inputs into its arguments, and decides when to
 * restore and save.
 *
 * ── The host adapter ──────────────────────────────────────────────────────────────────────────
 * Every flow takes a `host` object:
 *   getInput(name) -> string        raw input ('' when unset). Names are the GitHub kebab-case
 *                                   names in `Inputs` (key, path, restore-keys, access-key-id, ...);
 *                                   an Azure adapter maps its own input names onto these.
 *   setOutput(name, value)          names in `Outputs` (cache-hit, primary-key, matched-key, cache-size)
 *   saveState(name, value)          state from the restore step to the post step (names in `State`)
 *   getState(name) -> string        ('' when unset)
 *   info(msg) / warning(msg) / error(msg) / debug(msg)
 *   setSecret(value)                mask a secret in all later logs
 *   setFailed(msg)                  fail the step with one error line (must not throw)
 *   summary(markdown)               append to the job summary (may be a no-op)
 *   env                             environment object (defaults to process.env)
 * Job status for the post step is read through the `job-status` input: GitHub passes
 * `${{ job.status }}` (success | failure | cancelled); Azure can return Agent.JobStatus
 * (Succeeded | SucceededWithIssues | Failed | Canceled). See normalizeJobStatus().
 *
 * ── Flows (resolve, never throw; failures go to host.setFailed / host.warning) ────────────────
 *   runRestore(host, options)  -> { status: 'hit'|'partial'|'miss'|'error'|'failed', primaryKey,
 *                                   matchedKey, exactMatch, matchedScope, size }
 *       options.saveState (default true): save state for runPostSave (false for restore-only).
 *       Storage errors are warnings unless fail-on-error (or fail-on-cache-miss) is set.
 *   runPostSave(host, options) -> { status: 'saved'|'exists'|'skipped'|'error'|'failed', reason }
 *       Reads the state runRestore saved. Saves only on a miss or restore-key hit, never after an
 *       exact hit, never when read-only; save: on-miss (only if the job succeeded) | always | never.
 *   runSaveOnly(host, options) -> same result; saves unconditionally unless read-only.
 *   Common options: { env, cwd, binaryOptions: { toolCacheDir, tempDir, serverUrl, repository,
 *                     sums, platform, arch, token } }.
 *
 * ── Building blocks ──────────────────────────────────────────────────────────────────────────
 *   readInputs(host, 'restore'|'save') -> validated inputs object; throws InputError(input, msg)
 *   maskSecrets(host)                  call first: masks secret-access-key and access-key-id
 *   normalizeJobStatus(string)         -> 'success'|'failure'|'cancelled'|'partial'|'unknown'
 *   decideSave({ restoreRan, exactMatch, primaryKey, readOnly, readOnlyReason, save, jobStatus })
 *                                      -> { save: boolean, reason } (pure)
 *   computeScopes(mode, env, event)    -> { scope, fallbackScopes[], warning? } (GitHub ref rules)
 *   resolveReadOnly(mode, env, event)  -> { readOnly, reason }
 *   readEvent(env)                     the webhook payload at GITHUB_EVENT_PATH, or {}
 *   locateBinary(options)              -> { path, version, source: 'input'|'path'|'tool-cache'|'download' }
 *                                      binary input, s3pod on PATH with the wanted --version, tool
 *                                      cache, or release download verified against release-sums.json;
 *                                      throws BinaryError
 *   assetName(platform, arch)          'linux-x64' -> 's3pod-linux-x64', win32 adds '.exe'
 *   parseSha256Sums(text)              sha256sum listing -> { name: hex }
 *   runS3pod(binary, args, { env, cwd, json, onStderr, secrets }) -> { exitCode, stdout, stderr,
 *                                      json, durationMs } ('--json' appended; never rejects on exit)
 *   binaryEnv(inputs, env)             child env: drops INPUT_*, adds S3POD_S3_KEY_ID/S3POD_S3_SECRET
 *   globalArgs(inputs)                 --endpoint/--region/--bucket/--prefix (never credentials)
 *   restoreArgs(ctx, key) / saveArgs(ctx, key)
 *   RELEASE_SUMS                       { version, repository, assets: { 's3pod-linux-x64': sha256 } }
 *   Inputs, Outputs, State, ExitCodes, InputError, BinaryError, S3podError
 */

const constants = require('./constants');
const errors = require('./errors');
const inputs = require('./inputs');
const scope = require('./scope');
const binary = require('./binary');
const run = require('./run');
const restore = require('./restore');
const save = require('./save');

module.exports = {
  ...constants,
  ...errors,
  readInputs: inputs.readInputs,
  maskSecrets: inputs.maskSecrets,
  normalizeJobStatus: inputs.normalizeJobStatus,
  computeScopes: scope.computeScopes,
  resolveReadOnly: scope.resolveReadOnly,
  readEvent: scope.readEvent,
  locateBinary: binary.locateBinary,
  assetName: binary.assetName,
  parseSha256Sums: binary.parseSha256Sums,
  sha256File: binary.sha256File,
  RELEASE_SUMS: binary.RELEASE_SUMS,
  runS3pod: run.runS3pod,
  binaryEnv: run.binaryEnv,
  globalArgs: run.globalArgs,
  runRestore: restore.runRestore,
  restoreArgs: restore.restoreArgs,
  runPostSave: save.runPostSave,
  runSaveOnly: save.runSaveOnly,
  decideSave: save.decideSave,
  saveArgs: save.saveArgs,
};
