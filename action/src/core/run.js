'use strict';

const { spawn } = require('node:child_process');
const { S3podError } = require('./errors');

/** Flags every s3pod command accepts, built from the connection inputs (never credentials). */
function globalArgs(inputs) {
  const args = [];
  if (inputs.endpoint) args.push('--endpoint', inputs.endpoint);
  if (inputs.region) args.push('--region', inputs.region);
  if (inputs.bucket) args.push('--bucket', inputs.bucket);
  if (inputs.prefix) args.push('--prefix', inputs.prefix);
  return args;
}

/**
 * The environment for the binary: the host's environment without the action's INPUT_* variables
 * (they hold the secret inputs), plus the credentials in S3POD_S3_KEY_ID / S3POD_S3_SECRET when the
 * inputs give them. Without them the binary uses the standard AWS chain from the environment.
 */
function binaryEnv(inputs, baseEnv = process.env) {
  const env = {};
  for (const [name, value] of Object.entries(baseEnv)) {
    if (!/^INPUT_/i.test(name) && value !== undefined) env[name] = value;
  }
  if (inputs.accessKeyId) env.S3POD_S3_KEY_ID = inputs.accessKeyId;
  if (inputs.secretAccessKey) env.S3POD_S3_SECRET = inputs.secretAccessKey;
  return env;
}

/** Replaces every secret with *** (a second line of defence behind the host's own masking). */
function redactor(secrets) {
  const list = (secrets || []).filter((s) => s && s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => list.reduce((acc, secret) => acc.split(secret).join('***'), String(text));
}

/**
 * Runs the binary. stderr (human messages, progress) is forwarded line by line to `onStderr`;
 * stdout is collected. With `json` (default true) `--json` is appended and stdout parsed.
 * Resolves { exitCode, stdout, stderr, json, durationMs }; never rejects on a non-zero exit
 * (callers map exit codes), but rejects with S3podError when the process cannot start or its JSON
 * cannot be parsed after a zero exit.
 */
function runS3pod(binary, args, { env = process.env, cwd, json = true, onStderr, secrets = [] } = {}) {
  const redact = redactor(secrets);
  const fullArgs = json ? [...args, '--json'] : [...args];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(binary, fullArgs, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (err) {
      reject(new S3podError(`Could not start s3pod (${binary}): ${err.message}`, -1, ''));
      return;
    }
    const out = [];
    let err = '';
    let pending = '';
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => {
      const text = chunk.toString('utf8');
      err += text;
      pending += text;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop();
      for (const line of lines) if (onStderr && line.length) onStderr(redact(line));
    });
    child.on('error', (e) => reject(new S3podError(`Could not start s3pod (${binary}): ${e.message}`, -1, '')));
    child.on('close', (code, signal) => {
      if (pending && onStderr) onStderr(redact(pending));
      const stdout = Buffer.concat(out).toString('utf8');
      const result = {
        exitCode: code == null ? -1 : code,
        signal,
        stdout: redact(stdout),
        stderr: redact(err),
        json: null,
        durationMs: Date.now() - started,
      };
      if (json && stdout.trim()) {
        try {
          result.json = JSON.parse(stdout);
        } catch {
          if (code === 0) {
            reject(new S3podError(`s3pod ${args[0]} printed output that is not JSON: ${redact(stdout).slice(0, 200)}`, code, result.stderr));
            return;
          }
        }
      }
      resolve(result);
    });
  });
}

/** The binary's one-line cause on an error exit: the JSON `error` field, else the last stderr line. */
function errorLine(result) {
  if (result.json && typeof result.json.error === 'string' && result.json.error) return result.json.error;
  const lines = String(result.stderr || '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const last = lines.length ? lines[lines.length - 1] : '';
  if (last) return last.replace(/^(error|s3pod):\s*/i, '');
  return result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
}

module.exports = { runS3pod, globalArgs, binaryEnv, redactor, errorLine };
