'use strict';
// The two steps of S3Pod@1: the shared core's flows on the Azure host. The one thing the core
// does not know is cacheHitVar, Cache@2's three-valued hit variable, set from the flow's result.

const core = require('./core');
const { azureHost, cacheHitVariable } = require('./azure-host');

/** cacheHitVar's value: true (exact hit), inexact (a restore key matched), false (miss or error). */
function cacheHitValue(result) {
  if (result.status === 'hit') return 'true';
  if (result.status === 'partial') return 'inexact';
  return 'false';
}

/** execution: restore, and record what the post-job step needs. */
async function restore(tl, registeredSecrets = []) {
  const host = azureHost(tl, { registeredSecrets });
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
async function save(tl, registeredSecrets = []) {
  const host = azureHost(tl, { registeredSecrets });
  await core.runPostSave(host);
  host.complete();
}

module.exports = { restore, save, cacheHitValue };
