// The GitHub host adapter: maps the core's host interface onto @actions/core and the runner's
// file commands.
import fs from 'node:fs';
import * as core from '@actions/core';

export function githubHost(env = process.env) {
  return {
    getInput: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    saveState: (name, value) => core.saveState(name, value),
    getState: (name) => core.getState(name),
    info: (message) => core.info(message),
    warning: (message) => core.warning(message),
    error: (message) => core.error(message),
    debug: (message) => core.debug(message),
    setSecret: (value) => core.setSecret(value),
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
    env,
  };
}
