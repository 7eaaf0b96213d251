'use strict';
// Runs the bundled task entry points the way the agent does: `node <task>/<entry>.js` with
// inputs as INPUT_<NAME> (task.json defaults filled in), task variables from the execution step
// handed to the post-job step as VSTS_TASKVARIABLE_<NAME>, and the agent's variables as env.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');


function unescapeProperty(v) {
  return v.replace(/%3B/g, ';').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%AZP25/g, '%');
}
function unescapeData(v) {
  return v.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%AZP25/g, '%');
}

/** Parses ##vso[area.action k=v;...]message lines. */
function parseCommands(stdout) {
  const cmds = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = /##vso\[([\w.-]+)([^\]]*)\](.*)$/.exec(line);
    if (!m) continue;
    const props = {};
    for (const part of m[2].trim().split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) props[part.slice(0, eq).trim()] = unescapeProperty(part.slice(eq + 1));
    }
    cmds.push({ command: m[1], props, message: unescapeData(m[3]) });
  }
  return cmds;
}

const envKey = (name) => name.replace(/[.\s]/g, '_').toUpperCase();

/**
 * A job: one agent's directories plus the task variables each step hands to its post-job step.
 * runStep(entry, {inputs, env, taskVariables}) -> {code, stdout, stderr, result, warnings, errors,
 * variables, taskVariables, summary}; runStepAsync: the same as a promise
 */
function createJob({ taskDir, workdir, binaryEnv = {} }) {
  // The defaults of the task being run (the staged folder holds its task.json).
  const TASK_JSON = JSON.parse(fs.readFileSync(path.join(taskDir, 'task.json'), 'utf8'));
  const agentTemp = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-agent-temp-'));
  const tools = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-agent-tools-'));
  function stepEnv({ inputs = {}, env = {}, taskVariables = {} }) {
    const base = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(INPUT_|VSTS_TASKVARIABLE_|SECRET_|S3POD_|AGENT_|BUILD_|SYSTEM_)/.test(k)) base[k] = v;
    }
    const all = {};
    for (const input of TASK_JSON.inputs) if (input.defaultValue !== undefined) all[input.name] = input.defaultValue;
    Object.assign(all, inputs);
    const childEnv = {
      ...base,
      ...binaryEnv,
      AGENT_TEMPDIRECTORY: agentTemp,
      AGENT_TOOLSDIRECTORY: tools,
      SYSTEM_DEFAULTWORKINGDIRECTORY: workdir,
      BUILD_SOURCEBRANCH: 'refs/heads/main',
      AGENT_JOBSTATUS: 'Succeeded',
    };
    for (const [k, v] of Object.entries(all)) childEnv[`INPUT_${envKey(k)}`] = v;
    for (const [k, v] of Object.entries(taskVariables)) childEnv[`VSTS_TASKVARIABLE_${envKey(k)}`] = v;
    for (const [k, v] of Object.entries(env)) {
      if (v === null) delete childEnv[k];
      else childEnv[k] = v;
    }
    return childEnv;
  }
  function stepResult(r) {
    const cmds = parseCommands(r.stdout || '');
    const complete = cmds.filter((c) => c.command === 'task.complete').pop();
    const variables = {};
    const taskVars = {};
    for (const c of cmds) {
      if (c.command === 'task.setvariable') variables[c.props.variable] = c.message;
      if (c.command === 'task.settaskvariable') taskVars[c.props.variable] = c.message;
    }
    const issues = (type) => cmds.filter((c) => c.command === 'task.issue' && c.props.type === type).map((c) => c.message);
    // The summary is logged as a collapsible group (restricted mode refuses task.uploadsummary).
    const summaries = [...(r.stdout || '').matchAll(/^##\[group\]s3pod summary\n([\s\S]*?)^##\[endgroup\]$/gm)].map((m) => m[1]).join('\n');
    return {
      code: r.status,
      stdout: r.stdout || '',
      stderr: r.stderr || '',
      result: complete ? complete.props.result : 'None',
      warnings: issues('warning'),
      errors: issues('error'),
      variables,
      taskVariables: taskVars,
      summary: summaries,
      log: () => `--- stdout\n${(r.stdout || '').split('\n').filter((l) => !l.startsWith('##vso[task.debug]')).join('\n')}\n--- stderr\n${r.stderr}`,
    };
  }
  function runStep(entry, options = {}) {
    const r = spawnSync(process.execPath, [path.join(taskDir, `${entry}.js`)], {
      cwd: workdir,
      env: stepEnv(options),
      encoding: 'utf8',
      timeout: 300000,
    });
    return stepResult(r);
  }
  /** runStep as a promise, so that two steps (two "jobs") can run at once. */
  function runStepAsync(entry, options = {}) {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(taskDir, `${entry}.js`)], { cwd: workdir, env: stepEnv(options) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (status) => resolve(stepResult({ status, stdout, stderr })));
    });
  }
  const cleanup = () => {
    fs.rmSync(agentTemp, { recursive: true, force: true });
    fs.rmSync(tools, { recursive: true, force: true });
  };
  return { runStep, runStepAsync, cleanup };
}

function writeTree(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    const f = path.join(dir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
  }
}

function readTree(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else out[path.relative(dir, f)] = fs.readFileSync(f, 'utf8');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

module.exports = { createJob, parseCommands, writeTree, readTree };
