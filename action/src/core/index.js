'use strict';

/*
 * s3pod wrapper core: the restore and save flows shared by the GitHub Action (action/src/) and the
 * Azure Pipelines task (azure-task/S3PodV1/src/, which bundles this folder into its entry points).
 * CommonJS, Node built-ins only, Node >= 20. All cache logic lives in the s3pod binary; the core
 * finds the binary, turns inputs into its arguments, reads its JSON results and decides when to
 * restore and save. Everything that differs between CIs is behind the host adapter (host.js).
 *
 * Flows (resolve, never throw; failures go to host.setFailed / host.warning)
 *   runRestore(host, { saveState = true }) -> { status: 'hit'|'partial'|'miss'|'error'|'failed',
 *                                   primaryKey, matchedKey, exactMatch, matchedScope, size }
 *       saveState false: no post step follows (restore/). Storage errors are warnings unless
 *       fail-on-error (or fail-on-cache-miss) is set. On a miss the binary's reasons are logged.
 *   runPostSave(host) -> { status: 'saved'|'exists'|'skipped'|'error'|'failed', reason }
 *       Reads the state runRestore saved. Saves only on a miss or restore-key hit, never after an
 *       exact hit, never when read-only; save: on-miss (only if the job succeeded) | always | never.
 *       Failures are warnings unless fail-on-error is set.
 *   runSaveOnly(host) -> same result; saves unconditionally unless read-only (save/).
 *   runArtifact(host) -> { status: 'done'|'refused'|'failed', command, version, digest, path,
 *                                   previousVersion, moves[{ alias, from, to, ... }] }
 *       One `s3pod artifact` command (push | pull | publish | alias | pick) from the artifact
 *       inputs (ArtifactInputs); writes refused when read-only; aliases moved one by one.
 *   runAssets(host) -> { status, assetsDir, key, cache, downloaded, present, saved }
 *       `asset check` (check: true), the assets directory from the cache (key
 *       s3pod-assets-<sha256 of the manifest>), `asset sync`, save on a change unless read-only,
 *       then host.exportVariable(S3POD_ASSETS_DIR). Needs host.exportVariable(name, value).
 *
 * Building blocks
 *   checkHost(host)                    throws TypeError naming what an adapter lacks (HOST_METHODS)
 *   readInputs(host, 'restore'|'save') -> validated inputs; throws InputError(input, msg)
 *   parseChoice(host, name, value, allowed, fallback)  a choice in the host's spelling -> core value
 *   maskSecrets(host)                  call first: masks secret-access-key and access-key-id
 *   normalizeJobStatus(string)         -> 'success'|'failure'|'cancelled'|'partial'|'unknown'
 *   resolveReadOnly(mode, host)        -> { readOnly, reason } ('auto' asks host.untrustedReason())
 *   decideSave({ restoreRan, exactMatch, primaryKey, readOnly, readOnlyReason, save, jobStatus, update })
 *                                      -> { save: boolean, reason } (pure)
 *   locateBinary(options)              -> { path, version, source: 'input'|'path'|'tool-cache'|'download' }
 *                                      binary input, s3pod on PATH with the wanted --version, tool
 *                                      cache, or release download verified against release-sums.json;
 *                                      throws BinaryError
 *   assetName(os, arch)                ('Linux', 'ARM64') or ('linux', 'x64') -> 's3pod-linux-arm64';
 *                                      Windows adds '.exe'; null when no binary is built
 *   parseSha256Sums(text)              sha256sum listing -> { name: hex }
 *   runS3pod(binary, args, { env, cwd, json, onStderr, secrets }) -> { exitCode, stdout, stderr,
 *                                      json, durationMs } ('--json' appended; never rejects on exit)
 *   errorLine(result)                  the binary's one-line cause of an error exit
 *   readRestore / readSave / readTransfer / readExists / readKey (json)
 *                                      the binary's JSON results, read by contract name (results.js)
 *   binaryEnv(inputs, env)             child env: drops INPUT_*, adds S3POD_S3_KEY_ID/S3POD_S3_SECRET
 *   globalArgs(inputs)                 --endpoint/--region/--bucket/--prefix (never credentials)
 *   restoreArgs(ctx, key, restoreKeys) / saveArgs(ctx, key)
 *   RELEASE_SUMS                       { version, repository, assets: { 's3pod-linux-x64': sha256 } }
 *   Inputs, Outputs, State, ExitCodes, InputError, BinaryError, S3podError
 */

const constants = require('./constants');
const errors = require('./errors');
const host = require('./host');
const inputs = require('./inputs');
const context = require('./context');
const binary = require('./binary');
const run = require('./run');
const results = require('./results');
const restore = require('./restore');
const save = require('./save');
const artifact = require('./artifact');
const assets = require('./assets');

module.exports = {
  ...constants,
  ...errors,
  ...results,
  checkHost: host.checkHost,
  HOST_METHODS: host.HOST_METHODS,
  readInputs: inputs.readInputs,
  parseChoice: inputs.parseChoice,
  maskSecrets: inputs.maskSecrets,
  normalizeJobStatus: inputs.normalizeJobStatus,
  resolveReadOnly: context.resolveReadOnly,
  locateBinary: binary.locateBinary,
  assetName: binary.assetName,
  parseSha256Sums: binary.parseSha256Sums,
  sha256File: binary.sha256File,
  RELEASE_SUMS: binary.RELEASE_SUMS,
  runS3pod: run.runS3pod,
  errorLine: run.errorLine,
  binaryEnv: run.binaryEnv,
  globalArgs: run.globalArgs,
  runRestore: restore.runRestore,
  restoreArgs: restore.restoreArgs,
  runPostSave: save.runPostSave,
  runSaveOnly: save.runSaveOnly,
  decideSave: save.decideSave,
  saveArgs: save.saveArgs,
  runArtifact: artifact.runArtifact,
  readArtifactInputs: artifact.readArtifactInputs,
  runAssets: assets.runAssets,
  readAssetInputs: assets.readAssetInputs,
  assetsCacheKey: assets.assetsCacheKey,
};
