// The GitHub host adapter: the core's host interface (src/core/host.js) on @actions/core and the
// runner's environment. Input, output and state names are the core's own (action.yml spells them
// the same way).
import fs from 'node:fs';
import * as core from '@actions/core';
import s3pod from './core/index.js';
import { computeScopes, readEvent, untrustedReason } from './github-rules.js';
import { proxyAwareDownload } from './download.js';

export function githubHost(env = process.env) {
  const event = readEvent(env);
  const host = {
    env,
    cwd: process.cwd(),
    getInput: (name) => core.getInput(name),
    inputName: (name) => name,
    valueName: (_name, value) => value,
    setOutput: (name, value) => core.setOutput(name, value),
    saveState: (name, value) => core.saveState(name, value),
    getState: (name) => core.getState(name),
    setSecret: (value) => core.setSecret(value),
    exportVariable: (name, value) => core.exportVariable(name, value),
    info: (message) => core.info(message),
    warning: (message) => core.warning(message),
    error: (message) => core.error(message),
    debug: (message) => core.debug(message),
    setFailed: (message) => core.setFailed(message),
    summary: (markdown) => {
      const file = env.GITHUB_STEP_SUMMARY;
      if (!file) return;
      try {
        fs.appendFileSync(file, `${markdown}\n`);
      } catch (err) {
        core.debug(`Could not write the job summary: ${err.message}`);
      }
    },
    scopes: (scopeInput) => computeScopes(s3pod.parseChoice(host, s3pod.Inputs.Scope, scopeInput, s3pod.ScopeModes, 'ref'), env, event),
    untrustedReason: () => untrustedReason(env, event),
    // The hidden job-status input defaults to ${{ job.status }}, which the runner evaluates again
    // when the post step starts. Without it (a step that is not a post step) the status is unknown.
    jobStatus: () => s3pod.normalizeJobStatus(core.getInput(s3pod.Inputs.JobStatus)),
    runner: () => ({ os: env.RUNNER_OS, arch: env.RUNNER_ARCH, names: 'RUNNER_OS/RUNNER_ARCH' }),
    toolOptions: () => ({
      toolCacheDir: env.RUNNER_TOOL_CACHE || undefined,
      tempDir: env.RUNNER_TEMP || undefined,
      serverUrl: env.GITHUB_SERVER_URL || undefined,
      repository: env.GITHUB_ACTION_REPOSITORY || undefined,
      download: proxyAwareDownload,
    }),
  };
  return host;
}
