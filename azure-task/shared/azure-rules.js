'use strict';
// Azure's rules for the host adapter, as pure functions of the agent's variables:
//   scopes   (as Cache@2's docs describe them) a run writes the branch it builds
//            (Build.SourceBranch; refs/pull/N/merge for a pull request) and reads it first; a pull
//            request then reads its target branch (System.PullRequest.TargetBranch), and never
//            writes there
//   trust    a pull request from a fork (System.PullRequest.IsFork) is read-only under readOnly: auto
//   status   Cache@2 saves only after Succeeded

const { normalizeJobStatus } = require('./core');

function branchRef(name) {
  if (!name) return null;
  // GitHub-hosted repositories report the target branch as "main", Azure Repos as "refs/heads/main".
  return name.startsWith('refs/') ? name : `refs/heads/${name}`;
}

/**
 * @param {string} scopeInput  '' (automatic), 'none' (no scope) or an explicit scope
 * @param {(name: string) => string|undefined} getVariable
 * @returns {{scope: string|null, fallbackScopes: string[]}}
 */
function computeScopes(scopeInput, getVariable) {
  const input = (scopeInput || '').trim();
  if (input.toLowerCase() === 'none') return { scope: null, fallbackScopes: [] };
  if (input) return { scope: input, fallbackScopes: [] };
  const scope = (getVariable('Build.SourceBranch') || '').trim() || null;
  if (!scope) return { scope: null, fallbackScopes: [] };
  const target = branchRef((getVariable('System.PullRequest.TargetBranch') || '').trim());
  const fallbackScopes = target && target !== scope ? [target] : [];
  return { scope, fallbackScopes };
}

/** Why this run must not save under readOnly: auto ('' when it may). */
function untrustedReason(getVariable) {
  // The agent sets 'True' / 'False'; a fork's code must not write caches that trusted runs restore.
  return /^true$/i.test((getVariable('System.PullRequest.IsFork') || '').trim()) ? 'pull requests from forks are read-only' : '';
}

/**
 * Agent.JobStatus for the post-job step. A status that is missing or that has no name in the
 * core must not count as success (Cache@2 saves only after Succeeded), so it is passed on in
 * words ("'not set'") rather than as 'unknown', which the core would treat as success.
 */
function jobStatus(getVariable) {
  const raw = (getVariable('Agent.JobStatus') || '').trim();
  const status = normalizeJobStatus(raw);
  return status === 'unknown' ? `'${raw || 'not set'}'` : status;
}

module.exports = { computeScopes, untrustedReason, jobStatus, branchRef };
