// Runs the bundled dist/ entry points the way the GitHub runner does: inputs as INPUT_* with
// action.yml's defaults applied, file commands in GITHUB_STATE / GITHUB_OUTPUT / GITHUB_ENV /
// GITHUB_STEP_SUMMARY, state handed to the post step as STATE_*.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const actionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(actionDir, '..');
export const stubBinary = path.join(actionDir, '__tests__', 'fixtures', 'stub-s3pod.cjs');

const made = [];
/** A temporary directory removed when the test process exits (S3POD_TEST_KEEP=1 keeps them). */
export function tempDir(prefix = 's3pod-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
process.on('exit', () => {
  if (process.env.S3POD_TEST_KEEP) return;
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

const ENTRIES = {
  main: { yml: 'action.yml', stage: 'main' },
  post: { yml: 'action.yml', stage: 'post' },
  'restore-only': { yml: 'restore/action.yml', stage: 'main' },
  'save-only': { yml: 'save/action.yml', stage: 'main' },
  artifact: { yml: 'artifact/action.yml', stage: 'main' },
  assets: { yml: 'assets/action.yml', stage: 'main' },
};

/** The action.yml a runner would read for an entry point, and the script it would run. */
export function metadata(entry) {
  const { yml, stage } = ENTRIES[entry];
  const file = path.join(repoRoot, yml);
  const doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  const script = path.resolve(path.dirname(file), doc.runs[stage]);
  return { doc, script };
}

/** Evaluates the few expressions our defaults use, as the runner would. */
function evaluateDefault(value, ctx) {
  return String(value ?? '').replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr) => {
    if (expr === 'job.status') return ctx.jobStatus;
    throw new Error(`harness cannot evaluate \${{ ${expr} }}`);
  });
}

/** Parses a file written with the runner's file-command format (name<<delimiter ... delimiter). */
export function parseFileCommands(text) {
  const result = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (m) {
      const value = [];
      i += 1;
      while (i < lines.length && lines[i] !== m[2]) value.push(lines[i++]);
      result[m[1]] = value.join('\n');
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=');
      result[lines[i].slice(0, at)] = lines[i].slice(at + 1);
    }
  }
  return result;
}

/** A runner-like job: one temp dir holding the workspace, RUNNER_TEMP and the file commands. */
export function createJob({ event = {}, eventName = 'push', ref = 'refs/heads/main', baseRef = '', repository = 'octo/app', toolCache } = {}) {
  const root = tempDir('s3pod-job-');
  const dirs = {
    root,
    workspace: path.join(root, 'workspace'),
    temp: path.join(root, 'runner-temp'),
    toolCache: toolCache || path.join(root, 'tool-cache'),
    home: path.join(root, 'home'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  const eventPath = path.join(root, 'event.json');
  fs.writeFileSync(eventPath, JSON.stringify({ repository: { default_branch: 'main', full_name: repository }, ...event }));
  const env = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REF: ref,
    GITHUB_BASE_REF: baseRef,
    GITHUB_REPOSITORY: repository,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_WORKSPACE: dirs.workspace,
    RUNNER_TEMP: dirs.temp,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    RUNNER_OS: 'Linux',
    HOME: dirs.home,
  };
  return { ...dirs, env, state: {} };
}

/**
 * Runs one entry point ('main' | 'post' | 'restore-only' | 'save-only' | 'artifact' | 'assets') in `job`.
 * inputs: { name: value } as a workflow's `with:` gives them; defaults from action.yml fill the rest.
 * For 'post', the state the last 'main' saved is passed as STATE_*.
 * Resolves { code, stdout, stderr, outputs, exported (GITHUB_ENV), state, summary, errors, warnings, log }.
 */
export async function runStep(job, entry, inputs = {}, { env = {}, jobStatus = 'success', path: extraPath, cwd } = {}) {
  const { doc, script } = metadata(entry);
  const stepEnv = {
    PATH: extraPath ?? process.env.PATH,
    ...job.env,
    ...env,
  };
  for (const [name, spec] of Object.entries(doc.inputs || {})) {
    const value = Object.prototype.hasOwnProperty.call(inputs, name) ? inputs[name] : evaluateDefault(spec.default, { jobStatus });
    stepEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const name of Object.keys(inputs)) {
    if (!doc.inputs || !(name in doc.inputs)) throw new Error(`input ${name} is not declared in ${entry}'s action.yml`);
  }
  const files = {};
  for (const name of ['GITHUB_STATE', 'GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_STEP_SUMMARY', 'GITHUB_PATH']) {
    files[name] = path.join(job.root, `${entry}-${name.toLowerCase()}-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(files[name], '');
    stepEnv[name] = files[name];
  }
  if (entry === 'post') {
    for (const [k, v] of Object.entries(job.state)) stepEnv[`STATE_${k}`] = v;
  }
  const child = spawn(process.execPath, [script], { cwd: cwd || job.workspace, env: stepEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  const state = parseFileCommands(fs.readFileSync(files.GITHUB_STATE, 'utf8'));
  if (entry === 'main') job.state = state;
  const lines = stdout.split(/\r?\n/);
  return {
    code,
    stdout,
    stderr,
    log: `${stdout}${stderr}`,
    outputs: parseFileCommands(fs.readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    exported: parseFileCommands(fs.readFileSync(files.GITHUB_ENV, 'utf8')),
    state,
    summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    errors: lines.filter((l) => l.startsWith('::error::')),
    warnings: lines.filter((l) => l.startsWith('::warning::')),
    masks: lines.filter((l) => l.startsWith('::add-mask::')),
  };
}

export function writeFiles(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

export function readTree(dir) {
  const out = {};
  const walk = (d) => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      if (fs.statSync(p).isDirectory()) walk(p);
      else out[path.relative(dir, p).split(path.sep).join('/')] = fs.readFileSync(p, 'utf8');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
