'use strict';
// The two steps of S3Pod@1: the shared core's flows on the Azure host. The one thing the core
// does not know is cacheHitVar, Cache@2's three-valued hit variable, set from the flow's result.

const core = require('./core');
const { azureHost, cacheHitVariable, variableInput } = require('./azure-host');
const names = require('./names');

/** cacheHitVar's value: true (exact hit), inexact (a restore key matched), false (miss or error). */
function cacheHitValue(result) {
  if (result.status === 'hit') return 'true';
  if (result.status === 'partial') return 'inexact';
  return 'false';
}

/** execution: restore, and record what the post-job step needs. */
async function restore(tl, registeredSecrets = [], connection = null) {
  const host = azureHost(tl, { registeredSecrets, connection });
  const result = await core.runRestore(host);
  let name = '';
  try {
    name = cacheHitVariable(tl);
  } catch {
    // A bad cacheHitVar has already failed the step, naming the input.
  }
  if (name) tl.setVariable(name, cacheHitValue(result));
  host.complete();
}

/** postjobexecution: save on a miss or inexact hit, from the state the restore recorded. */
async function save(tl, registeredSecrets = [], connection = null) {
  const host = azureHost(tl, { registeredSecrets, connection });
  await core.runPostSave(host);
  host.complete();
}

/**
 * S3PodArtifact@1: one artifact command; versionVar / digestVar (when given) are set to the
 * version and digest, as plain variables for the later steps of the job.
 */
async function artifact(tl, registeredSecrets = [], connection = null) {
  const host = azureHost(tl, { registeredSecrets, connection, names: { inputs: names.ArtifactInputNames, outputs: names.ArtifactOutputNames } });
  let versionVar;
  let digestVar;
  try {
    versionVar = variableInput(tl, names.ArtifactTaskInputs.VersionVar);
    digestVar = variableInput(tl, names.ArtifactTaskInputs.DigestVar);
  } catch (err) {
    host.setFailed(err.message);
    host.complete();
    return { status: 'failed', message: err.message };
  }
  const result = await core.runArtifact(host);
  if (result.status === 'done') {
    if (versionVar) tl.setVariable(versionVar, result.version || '');
    if (digestVar) tl.setVariable(digestVar, result.digest || '');
  }
  host.complete();
  return result;
}

/** S3PodAssets@1: sync the manifest's assets into the cached assets directory. */
async function assets(tl, registeredSecrets = [], connection = null) {
  const host = azureHost(tl, { registeredSecrets, connection, names: { inputs: names.AssetInputNames, outputs: names.AssetOutputNames } });
  const result = await core.runAssets(host);
  host.complete();
  return result;
}

module.exports = { restore, save, artifact, assets, cacheHitValue };
