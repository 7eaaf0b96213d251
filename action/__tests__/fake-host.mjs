// An in-memory host adapter that records everything, for calling the core's flows directly.
// `over` replaces any member (inputName, untrustedReason, jobStatus, ...) or sets rule results:
// { scopes: {...} | fn, untrustedReason: string | fn, jobStatus: string | fn, runner: {...} | fn }.
import os from 'node:os';

export function fakeHost(inputs = {}, state = {}, over = {}) {
  const log = { outputs: {}, state: { ...state }, info: [], warning: [], error: [], debug: [], secrets: [], failed: [], summary: [] };
  const value = (v) => (typeof v === 'function' ? v : () => v);
  const host = {
    log,
    env: {},
    cwd: os.tmpdir(),
    getInput: (n) => inputs[n] ?? '',
    inputName: (n) => n,
    valueName: (_n, v) => v,
    setOutput: (n, v) => { log.outputs[n] = v; },
    saveState: (n, v) => { log.state[n] = v; },
    getState: (n) => log.state[n] ?? '',
    setSecret: (v) => log.secrets.push(v),
    info: (m) => log.info.push(m),
    warning: (m) => log.warning.push(m),
    error: (m) => log.error.push(m),
    debug: (m) => log.debug.push(m),
    setFailed: (m) => log.failed.push(m),
    summary: (m) => log.summary.push(m),
    scopes: () => ({ scope: null, fallbackScopes: [] }),
    untrustedReason: () => '',
    jobStatus: () => 'success',
    runner: () => ({ os: process.platform, arch: process.arch, names: 'process.platform/process.arch' }),
    toolOptions: () => ({ toolCacheDir: os.tmpdir(), tempDir: os.tmpdir() }),
  };
  for (const [name, v] of Object.entries(over)) {
    host[name] = ['scopes', 'untrustedReason', 'jobStatus', 'runner', 'toolOptions'].includes(name) ? value(v) : v;
  }
  return host;
}
