'use strict';
// Azure's cache scopes (as Cache@2's docs describe them): a run writes the branch it builds
// (Build.SourceBranch; refs/pull/N/merge for a pull request) and reads it first; a pull request
// then reads its target branch (System.PullRequest.TargetBranch), and never writes there.

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

module.exports = { computeScopes, branchRef };
