// GitHub's rules for the host adapter: which scopes a run reads and writes, and which runs are
// untrusted (read-only under `read-only: auto`). Pure functions of the environment and the
// webhook payload, so they are tested without a runner.
import fs from 'node:fs';

const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);

/** The webhook payload at GITHUB_EVENT_PATH, or {} when there is none or it cannot be read. */
export function readEvent(env) {
  const file = env.GITHUB_EVENT_PATH;
  if (!file) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) || {};
  } catch {
    return {};
  }
}

function prNumber(env, event) {
  const fromEvent = event.pull_request?.number ?? event.number;
  if (fromEvent != null && String(fromEvent) !== '') return String(fromEvent);
  const match = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF || '');
  return match ? match[1] : null;
}

function branchRef(name) {
  if (!name) return null;
  return name.startsWith('refs/') ? name : `refs/heads/${name}`;
}

/**
 * GitHub-style cache scopes.
 *   mode 'ref':  a pull request reads refs/pull/N/merge, then refs/heads/<base>, then the default
 *                branch, and writes only refs/pull/N/merge; any other event reads GITHUB_REF, then the
 *                default branch, and writes GITHUB_REF.
 *   mode 'repo': one scope per repository (GITHUB_REPOSITORY), shared by every ref.
 *   mode 'none': no scope: the key alone (what a plain `s3pod save` without --scope writes).
 * Returns { scope: string|null, fallbackScopes: string[], warning?: string }.
 */
export function computeScopes(mode, env, event = readEvent(env)) {
  if (mode === 'none') return { scope: null, fallbackScopes: [] };
  if (mode === 'repo') {
    const repo = env.GITHUB_REPOSITORY || event.repository?.full_name;
    if (!repo) return { scope: null, fallbackScopes: [], warning: 'GITHUB_REPOSITORY is not set; scope "repo" falls back to no scope' };
    return { scope: repo, fallbackScopes: [] };
  }

  const defaultBranch = branchRef(event.repository?.default_branch);
  const eventName = env.GITHUB_EVENT_NAME || '';
  let scope = null;
  const reads = [];
  if (PR_EVENTS.has(eventName)) {
    const number = prNumber(env, event);
    scope = number ? `refs/pull/${number}/merge` : env.GITHUB_REF || null;
    reads.push(branchRef(env.GITHUB_BASE_REF || event.pull_request?.base?.ref));
  } else {
    scope = env.GITHUB_REF || null;
  }
  reads.push(defaultBranch);
  if (!scope) {
    return { scope: null, fallbackScopes: [], warning: 'GITHUB_REF is not set, so the cache is not tied to a ref; using no scope' };
  }
  const fallbackScopes = [];
  for (const ref of reads) {
    if (ref && ref !== scope && !fallbackScopes.includes(ref)) fallbackScopes.push(ref);
  }
  return { scope, fallbackScopes };
}

/**
 * Why this run must not save under `read-only: auto`, or '' when it may: pull_request_target
 * runs, and pull requests from forks (head repo is a fork, differs from the base repo, or was
 * deleted). Their code comes from outside the repository and must not write caches that
 * trusted runs restore.
 */
export function untrustedReason(env, event = readEvent(env)) {
  const eventName = env.GITHUB_EVENT_NAME || '';
  if (eventName === 'pull_request_target') return 'pull_request_target runs are read-only';
  if (eventName === 'pull_request') {
    const head = event.pull_request?.head?.repo;
    const base = event.pull_request?.base?.repo;
    const fromFork = (event.pull_request && !head)
      || head?.fork === true
      || (head?.full_name && base?.full_name && head.full_name !== base.full_name);
    if (fromFork) return 'pull requests from forks are read-only';
  }
  return '';
}
