'use strict';

/**
 * The host adapter: everything the flows (runRestore, runPostSave, runSaveOnly) need from the CI
 * system they run in, so that the GitHub Action (action/src/github-host.js) and the Azure
 * Pipelines task (azure-task/S3PodV1/src/azure-host.js) run the same flows. One object per step.
 *
 * Step input and output
 *   getInput(name) -> string           raw value of a core input (names in Inputs); '' when unset
 *   inputName(name) -> string          how the user spells that input (error messages name it)
 *   valueName(name, value) -> string   how the user spells a choice value (Azure: on-miss -> onMiss)
 *   setOutput(name, value)             names in Outputs
 *   saveState(name, value)             restore step -> post step (names in State)
 *   getState(name) -> string           '' when unset
 *   setSecret(value)                   mask the value in everything logged afterwards
 *   info(message) / warning(message) / error(message) / debug(message)
 *   setFailed(message)                 fail the step with one error line; must not throw
 *   summary(markdown)                  append to the job summary (may do nothing)
 *
 * The CI's facts and rules
 *   env                                environment the binary starts from
 *   cwd                                working directory: relative paths and globs start here
 *   scopes(scopeInput) -> { scope, fallbackScopes, warning? }
 *                                      the scope to write and the scopes to read after it, from the
 *                                      raw `scope` input; throws InputError on a bad value
 *   untrustedReason() -> string        why a `read-only: auto` job must not save ('' when it may)
 *   jobStatus() -> string              success | failure | cancelled | partial | unknown, or the
 *                                      host's own word for a status that must not count as success
 *   runner() -> { os, arch, names }    the runner's OS and architecture as the CI names them
 *                                      (RUNNER_OS=macOS, Agent.OSArchitecture=ARM64, ...); names
 *                                      says where they came from, for error messages
 *   toolOptions() -> { toolCacheDir, tempDir, serverUrl?, repository?, download? }
 *                                      where a downloaded binary is kept, and where it comes from
 *
 * Optional
 *   exportVariable(name, value)        an environment variable for the later steps of the job
 *                                      (required by runAssets: S3POD_ASSETS_DIR)
 *   checkInputs(inputs)                validates inputs only this host has; throws InputError
 *   literalKeys(inputs) -> { primaryKey, restoreKeys, description }
 *                                      resolves a key that is not an s3pod template (Azure: Cache@2
 *                                      key syntax); without it such keys are used as written
 */
const HOST_METHODS = Object.freeze([
  'getInput', 'inputName', 'valueName', 'setOutput', 'saveState', 'getState', 'setSecret',
  'info', 'warning', 'error', 'debug', 'setFailed', 'summary',
  'scopes', 'untrustedReason', 'jobStatus', 'runner', 'toolOptions',
]);

/** Throws a TypeError naming every member the host lacks (a programming error, not a user's). */
function checkHost(host) {
  const missing = HOST_METHODS.filter((name) => typeof host?.[name] !== 'function');
  if (!host || typeof host.env !== 'object' || host.env === null) missing.push('env');
  if (!host || typeof host.cwd !== 'string' || !host.cwd) missing.push('cwd');
  if (missing.length) throw new TypeError(`The host adapter lacks: ${missing.join(', ')}`);
  return host;
}

module.exports = { HOST_METHODS, checkHost };
