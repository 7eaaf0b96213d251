// The GitHub host adapter as the core sees it: the whole interface, the scope input's choices,
// the runner's OS and arch, the job status from the hidden input; and the core's flows run on
// an in-memory host with the stub binary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { githubHost } from '../src/github-host.js';
import { fakeHost } from './fake-host.mjs';
import { stubBinary, tempDir } from './harness.mjs';

const require = createRequire(import.meta.url);
const core = require('../src/core/index.js');

/** Runs fn with INPUT_* set as the runner would, restoring the environment afterwards. */
function withInputs(inputs, fn) {
  const names = Object.keys(inputs).map((n) => `INPUT_${n.toUpperCase()}`);
  Object.entries(inputs).forEach(([n, v]) => { process.env[`INPUT_${n.toUpperCase()}`] = v; });
  try {
    return fn();
  } finally {
    names.forEach((n) => delete process.env[n]);
  }
}

describe('githubHost', () => {
  test('implements the whole host interface', () => {
    assert.doesNotThrow(() => core.checkHost(githubHost({})));
    for (const name of core.HOST_METHODS) {
      const host = githubHost({});
      delete host[name];
      assert.throws(() => core.checkHost(host), new RegExp(`lacks: ${name}`));
    }
  });

  test('scope is ref, repo or none', () => {
    const host = githubHost({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x', GITHUB_REPOSITORY: 'o/r' });
    assert.deepEqual(host.scopes(''), { scope: 'refs/heads/x', fallbackScopes: [] });
    assert.deepEqual(host.scopes('REPO'), { scope: 'o/r', fallbackScopes: [] });
    assert.throws(() => host.scopes('Branch'), (err) => err instanceof core.InputError && err.message === 'Input "scope" must be one of ref, repo, none, not "Branch"');
  });

  test('the runner is RUNNER_OS / RUNNER_ARCH; tools come from the runner\'s directories and server', () => {
    const host = githubHost({ RUNNER_OS: 'macOS', RUNNER_ARCH: 'ARM64', RUNNER_TOOL_CACHE: '/tc', RUNNER_TEMP: '/rt', GITHUB_SERVER_URL: 'https://ghe.example', GITHUB_ACTION_REPOSITORY: 'org/s3pod' });
    assert.deepEqual(host.runner(), { os: 'macOS', arch: 'ARM64', names: 'RUNNER_OS/RUNNER_ARCH' });
    assert.equal(core.assetName(host.runner().os, host.runner().arch), 's3pod-osx-arm64');
    const { download, ...dirs } = host.toolOptions();
    assert.deepEqual(dirs, { toolCacheDir: '/tc', tempDir: '/rt', serverUrl: 'https://ghe.example', repository: 'org/s3pod' });
    assert.equal(download.name, 'proxyAwareDownload', 'the proxy-aware downloader (see proxy.test.mjs)');
  });

  test('job status comes from the job-status input', () => {
    assert.equal(withInputs({ 'job-status': 'failure' }, () => githubHost({}).jobStatus()), 'failure');
    assert.equal(githubHost({}).jobStatus(), 'unknown');
  });
});

describe('core flows on an in-memory host (stub binary)', () => {
  const store = tempDir('s3pod-flow-store-');
  const work = tempDir('s3pod-flow-work-');
  fs.mkdirSync(path.join(work, 'deps'));
  fs.writeFileSync(path.join(work, 'deps', 'f'), 'x');
  const host = (inputs, state, over = {}) => {
    const h = fakeHost({ binary: stubBinary, path: 'deps', ...inputs }, state, over);
    h.env = { PATH: process.env.PATH, S3POD_STORE: store };
    h.cwd = work;
    return h;
  };

  test('a miss logs the binary\'s summary and every reason as info lines', async () => {
    const h = host({ key: 'flow-miss', 'restore-keys': 'flow-none-' });
    const result = await core.runRestore(h);
    assert.equal(result.status, 'miss');
    const at = h.log.info.indexOf('Cache not found for input keys: flow-miss, flow-none-');
    assert.ok(at >= 0, h.log.info.join('\n'));
    assert.match(h.log.info[at + 1], /^Why: no cache entry matches key flow-miss/);
    assert.deepEqual(h.log.info.slice(at + 2, at + 4), ['  - no entry has key flow-miss in any scope', '  - restore key flow-none- matched nothing in scopes default']);
  });

  test('restore keys with {hash} are resolved like the key; the others are prefixes as written', async () => {
    fs.writeFileSync(path.join(work, 'lock'), 'v1');
    const h = host({ key: 'rk-{hash}', 'hash-files': 'lock', 'restore-keys': 'rk-{hash}-old\nrk-' });
    const result = await core.runRestore(h);
    assert.equal(result.status, 'miss');
    const hash = result.primaryKey.slice('rk-'.length);
    assert.match(hash, /^[0-9a-f]{16}$/);
    assert.ok(h.log.info.includes(`Cache not found for input keys: rk-${hash}, rk-${hash}-old, rk-`), h.log.info.join('\n'));
  });

  test('post: read-only from the restore step holds even if the post step would allow saving', async () => {
    const state = { S3POD_RESTORE_RAN: 'true', S3POD_PRIMARY_KEY: 'k', S3POD_EXACT_MATCH: 'false', S3POD_READ_ONLY: 'true', S3POD_READ_ONLY_REASON: 'pull requests from forks are read-only (read-only: auto)' };
    const h = host({ key: 'k', 'read-only': 'false' }, state);
    const result = await core.runPostSave(h);
    assert.equal(result.status, 'skipped');
    assert.match(h.log.info.join('\n'), /Not saving: read-only: pull requests from forks/);
  });

  test('post: a failure is a warning unless fail-on-error is set; save/ fails the step', async () => {
    const state = { S3POD_RESTORE_RAN: 'true', S3POD_PRIMARY_KEY: 'k', S3POD_EXACT_MATCH: 'false' };
    const warned = host({ key: 'k', binary: '/no/such/s3pod' }, state);
    await core.runPostSave(warned);
    assert.deepEqual([warned.log.failed, warned.log.warning], [[], ['Failed to save cache: Input "binary": /no/such/s3pod does not exist or is not an executable file']]);
    const failed = host({ key: 'k', binary: '/no/such/s3pod', 'fail-on-error': 'true' }, state);
    await core.runPostSave(failed);
    assert.equal(failed.log.failed.length, 1);
    const saveOnly = host({ key: 'k', binary: '/no/such/s3pod' });
    await core.runSaveOnly(saveOnly);
    assert.equal(saveOnly.log.failed.length, 1);
  });

  test('post: paths recorded by the restore step win over the inputs', async () => {
    const state = { S3POD_RESTORE_RAN: 'true', S3POD_PRIMARY_KEY: 'flow-paths', S3POD_EXACT_MATCH: 'false', S3POD_PATHS: '["deps"]' };
    const h = host({ key: 'flow-paths', path: 'not-these' }, state);
    const result = await core.runPostSave(h);
    assert.equal(result.status, 'saved', h.log.warning.join('\n'));
  });

  test('post: a template key that moved during the job warns and saves under the restore\'s key', async () => {
    fs.writeFileSync(path.join(work, 'lock'), 'v2');
    const state = { S3POD_RESTORE_RAN: 'true', S3POD_PRIMARY_KEY: 'tpl-0000', S3POD_EXACT_MATCH: 'false' };
    const h = host({ key: 'tpl-{hash}', 'hash-files': 'lock' }, state);
    const result = await core.runPostSave(h);
    assert.equal(result.status, 'saved');
    assert.equal(result.key, 'tpl-0000');
    assert.match(h.log.warning.join('\n'), /^The cache key changed during the job \(now tpl-[0-9a-f]{16}\); saving under the key computed at restore: tpl-0000$/);
  });
});
