// Unit tests of the host-agnostic core (CommonJS, loaded as the Azure task loads it) and of
// GitHub's rules for the host adapter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { computeScopes, untrustedReason } from '../src/github-rules.js';
import { fakeHost } from './fake-host.mjs';

const require = createRequire(import.meta.url);
const core = require('../src/core/index.js');

const PR = { number: 42, pull_request: { number: 42, base: { ref: 'develop', repo: { full_name: 'o/r' } }, head: { repo: { full_name: 'o/r', fork: false } } }, repository: { default_branch: 'main' } };

describe('computeScopes', () => {
  test('push reads its ref then the default branch, and writes its ref', () => {
    const env = { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/feature' };
    assert.deepEqual(computeScopes('ref', env, { repository: { default_branch: 'main' } }), {
      scope: 'refs/heads/feature', fallbackScopes: ['refs/heads/main'],
    });
  });
  test('push to the default branch has no fallback', () => {
    const env = { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' };
    assert.deepEqual(computeScopes('ref', env, { repository: { default_branch: 'main' } }).fallbackScopes, []);
  });
  test('a tag reads the default branch too', () => {
    const env = { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.0.0' };
    assert.deepEqual(computeScopes('ref', env, { repository: { default_branch: 'trunk' } }), {
      scope: 'refs/tags/v1.0.0', fallbackScopes: ['refs/heads/trunk'],
    });
  });
  test('pull_request reads merge ref, base branch, default branch; writes the merge ref', () => {
    const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/42/merge', GITHUB_BASE_REF: 'develop' };
    assert.deepEqual(computeScopes('ref', env, PR), {
      scope: 'refs/pull/42/merge', fallbackScopes: ['refs/heads/develop', 'refs/heads/main'],
    });
  });
  test('pull_request_target (GITHUB_REF is the base branch) still writes the PR merge ref', () => {
    const env = { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_REF: 'refs/heads/develop', GITHUB_BASE_REF: 'develop' };
    assert.deepEqual(computeScopes('ref', env, PR), {
      scope: 'refs/pull/42/merge', fallbackScopes: ['refs/heads/develop', 'refs/heads/main'],
    });
  });
  test('base branch equal to the default branch is listed once', () => {
    const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/3/merge', GITHUB_BASE_REF: 'main' };
    assert.deepEqual(computeScopes('ref', env, { number: 3, repository: { default_branch: 'main' } }).fallbackScopes, ['refs/heads/main']);
  });
  test('repo and none', () => {
    assert.deepEqual(computeScopes('repo', { GITHUB_REPOSITORY: 'o/r' }, {}), { scope: 'o/r', fallbackScopes: [] });
    assert.deepEqual(computeScopes('none', { GITHUB_REF: 'refs/heads/x' }, {}), { scope: null, fallbackScopes: [] });
  });
  test('no GITHUB_REF: no scope, with a warning', () => {
    const r = computeScopes('ref', {}, {});
    assert.equal(r.scope, null);
    assert.match(r.warning, /GITHUB_REF/);
  });
});

describe('read-only', () => {
  const fork = { pull_request: { head: { repo: { full_name: 'evil/r', fork: true } }, base: { repo: { full_name: 'o/r' } } } };
  const renamedFork = { pull_request: { head: { repo: { full_name: 'evil/r' } }, base: { repo: { full_name: 'o/r' } } } };
  test('GitHub: untrusted runs are pull_request_target and pull requests from forks', () => {
    assert.equal(untrustedReason({ GITHUB_EVENT_NAME: 'push' }, {}), '');
    assert.equal(untrustedReason({ GITHUB_EVENT_NAME: 'pull_request' }, PR), '');
    assert.match(untrustedReason({ GITHUB_EVENT_NAME: 'pull_request' }, fork), /forks/);
    assert.match(untrustedReason({ GITHUB_EVENT_NAME: 'pull_request' }, renamedFork), /forks/);
    assert.match(untrustedReason({ GITHUB_EVENT_NAME: 'pull_request' }, { pull_request: { head: {} } }), /forks/, 'deleted head repo');
    assert.match(untrustedReason({ GITHUB_EVENT_NAME: 'pull_request_target' }, PR), /pull_request_target/);
  });
  test('auto asks the host; true and false override it', () => {
    const trusted = fakeHost({}, {}, { untrustedReason: '' });
    const untrusted = fakeHost({}, {}, { untrustedReason: 'pull requests from forks are read-only' });
    assert.deepEqual(core.resolveReadOnly('auto', trusted), { readOnly: false, reason: '' });
    assert.deepEqual(core.resolveReadOnly('auto', untrusted), { readOnly: true, reason: 'pull requests from forks are read-only (read-only: auto)' });
    assert.equal(core.resolveReadOnly('true', trusted).readOnly, true);
    assert.equal(core.resolveReadOnly('false', untrusted).readOnly, false);
  });
});

describe('decideSave', () => {
  const base = { restoreRan: true, exactMatch: false, primaryKey: 'k', readOnly: false, save: 'on-miss', jobStatus: 'success' };
  const cases = [
    [{}, true],
    [{ exactMatch: true }, false],
    [{ exactMatch: true, save: 'always', jobStatus: 'failure' }, false],
    [{ readOnly: true, save: 'always' }, false],
    [{ restoreRan: false }, false],
    [{ save: 'never' }, false],
    [{ jobStatus: 'failure' }, false],
    [{ jobStatus: 'cancelled' }, false],
    [{ jobStatus: 'partial' }, false],
    [{ jobStatus: 'unknown' }, true],
    [{ jobStatus: 'failure', save: 'always' }, true],
    [{ jobStatus: 'cancelled', save: 'always' }, true],
  ];
  for (const [over, expected] of cases) {
    test(`${JSON.stringify(over)} -> ${expected}`, () => {
      assert.equal(core.decideSave({ ...base, ...over }).save, expected);
    });
  }
  test('normalizeJobStatus maps GitHub and Azure values', () => {
    assert.deepEqual(
      ['success', 'failure', 'cancelled', 'Succeeded', 'SucceededWithIssues', 'Failed', 'Canceled', ''].map(core.normalizeJobStatus),
      ['success', 'failure', 'cancelled', 'success', 'partial', 'failure', 'cancelled', 'unknown'],
    );
  });
});

describe('readInputs', () => {
  const ok = { key: 'k', path: 'a\n  ! b/c \n\n~/d' };
  test('parses lists, booleans and defaults', () => {
    const i = core.readInputs(fakeHost({ ...ok, 'restore-keys': 'k-\n', 'lookup-only': 'TRUE', 'compression-level': '19', version: 'v1.2.3' }));
    assert.deepEqual(i.paths, ['a', '!b/c', '~/d']);
    assert.deepEqual(i.restoreKeys, ['k-']);
    assert.equal(i.lookupOnly, true);
    assert.equal(i.failOnCacheMiss, false);
    assert.equal(i.readOnly, 'auto');
    assert.equal(i.save, 'on-miss');
    assert.equal(i.compressionLevel, 19);
    assert.equal(i.version, '1.2.3');
    assert.equal(i.scope, '', 'scope is the host\'s to parse');
  });
  const bad = [
    [{ path: 'a' }, 'key'],
    [{ key: 'k' }, 'path'],
    [{ key: 'a\nb', path: 'a' }, 'key'],
    [{ key: 'x'.repeat(1025), path: 'a' }, 'key'],
    [{ ...ok, 'read-only': 'yes' }, 'read-only'],
    [{ ...ok, save: 'on-success' }, 'save'],
    [{ ...ok, 'fail-on-cache-miss': '1' }, 'fail-on-cache-miss'],
    [{ ...ok, 'compression-level': '20' }, 'compression-level'],
    [{ ...ok, 'compression-level': '0' }, 'compression-level'],
    [{ ...ok, 'compression-level': '1.5' }, 'compression-level'],
    [{ ...ok, endpoint: 'ftp://x' }, 'endpoint'],
    [{ ...ok, endpoint: 'https://user:pw@x' }, 'endpoint'],
    [{ ...ok, 'access-key-id': 'AK' }, 'secret-access-key'],
    [{ ...ok, 'secret-access-key': 'S' }, 'access-key-id'],
    [{ ...ok, 'docker-image': 'img:1' }, 'path'],
    [{ key: 'k-{hash}', path: 'a' }, 'hash-files'],
    [{ ...ok, version: 'latest' }, 'version'],
  ];
  for (const [inputs, name] of bad) {
    test(`rejects ${JSON.stringify(inputs).slice(0, 60)} naming ${name}`, () => {
      assert.throws(() => core.readInputs(fakeHost(inputs)), (err) => err instanceof core.InputError && err.input === name && err.message.includes(name));
    });
  }
  test('errors name the input and its values as the host spells them', () => {
    const names = { 'compression-level': 'compressionLevel', 'docker-image': 'dockerImage', save: 'save', path: 'path' };
    const host = fakeHost({ ...ok, 'compression-level': '0' }, {}, {
      inputName: (n) => names[n] ?? n,
      valueName: (n, v) => (n === 'save' && v === 'on-miss' ? 'onMiss' : v),
    });
    assert.throws(() => core.readInputs(host), (err) => err.input === 'compression-level' && err.message === 'Input "compressionLevel" must be a whole number from 1 to 19, not "0"');
    const save = fakeHost({ ...ok, save: 'sometimes' }, {}, { valueName: (n, v) => (v === 'on-miss' ? 'onMiss' : v) });
    assert.throws(() => core.readInputs(save), /Input "save" must be one of onMiss, always, never, not "sometimes"/);
    assert.equal(core.readInputs(fakeHost({ ...ok, save: 'ONMISS' }, {}, { valueName: (n, v) => (v === 'on-miss' ? 'onMiss' : v) })).save, 'on-miss');
    const noPath = fakeHost({ key: 'k' }, {}, { inputName: (n) => names[n] ?? n });
    assert.throws(() => core.readInputs(noPath), /Input required and not supplied: path \(or dockerImage\)/);
  });
  test('secret values never appear in error messages', () => {
    const host = fakeHost({ ...ok, 'secret-access-key': 'TOPSECRETVALUE' });
    assert.throws(() => core.readInputs(host), (err) => !err.message.includes('TOPSECRETVALUE'));
  });
  test('maskSecrets masks both credential inputs', () => {
    const host = fakeHost({ 'access-key-id': ' AKID ', 'secret-access-key': 'SECRET' });
    core.maskSecrets(host);
    assert.deepEqual(host.log.secrets.sort(), ['AKID', 'SECRET']);
  });
});

describe('binary arguments and environment', () => {
  const inputs = { endpoint: 'http://h:9000', region: 'r', bucket: 'b', prefix: 'p', accessKeyId: 'AK', secretAccessKey: 'SK', paths: ['a', 'b'], restoreKeys: ['x-'], lookupOnly: true, compressionLevel: 5 };
  test('restore and save arguments carry scopes and no credentials', () => {
    const ctx = { inputs, scope: 'refs/pull/1/merge', fallbackScopes: ['refs/heads/main'] };
    const r = core.restoreArgs(ctx, 'K');
    assert.deepEqual(r, ['restore', '--key', 'K', '--restore-key', 'x-', '--path', 'a', '--path', 'b', '--scope', 'refs/pull/1/merge',
      '--fallback-scope', 'refs/heads/main', '--lookup-only', '--endpoint', 'http://h:9000', '--region', 'r', '--bucket', 'b', '--prefix', 'p']);
    const s = core.saveArgs(ctx, 'K');
    assert.deepEqual(s, ['save', '--key', 'K', '--path', 'a', '--path', 'b', '--scope', 'refs/pull/1/merge', '--level', '5',
      '--endpoint', 'http://h:9000', '--region', 'r', '--bucket', 'b', '--prefix', 'p']);
    for (const a of [...r, ...s]) assert.ok(a !== 'AK' && a !== 'SK');
  });
  test('an image is an entry like paths: restore keys, scopes, lookup-only and update carry over', () => {
    const image = { ...inputs, paths: [], dockerImage: 'app:ci', update: true };
    assert.deepEqual(core.readInputs(fakeHost({ key: 'k', 'docker-image': 'app:ci', 'restore-keys': 'k-' })).restoreKeys, ['k-']);
    const ctx = { inputs: image, scope: 'refs/pull/1/merge', fallbackScopes: ['refs/heads/main'] };
    assert.deepEqual(core.restoreArgs(ctx, 'K'), ['restore', '--key', 'K', '--restore-key', 'x-', '--docker-image', 'app:ci', '--scope', 'refs/pull/1/merge',
      '--fallback-scope', 'refs/heads/main', '--lookup-only', '--endpoint', 'http://h:9000', '--region', 'r', '--bucket', 'b', '--prefix', 'p']);
    assert.deepEqual(core.saveArgs(ctx, 'K'), ['save', '--key', 'K', '--docker-image', 'app:ci', '--scope', 'refs/pull/1/merge', '--update', '--level', '5',
      '--endpoint', 'http://h:9000', '--region', 'r', '--bucket', 'b', '--prefix', 'p']);
  });
  test('binaryEnv passes credentials by environment and drops INPUT_*', () => {
    const env = core.binaryEnv(inputs, { PATH: '/bin', 'INPUT_SECRET-ACCESS-KEY': 'SK', AWS_REGION: 'x' });
    assert.deepEqual(env, { PATH: '/bin', AWS_REGION: 'x', S3POD_S3_KEY_ID: 'AK', S3POD_S3_SECRET: 'SK' });
    assert.deepEqual(core.binaryEnv({}, { PATH: '/bin' }), { PATH: '/bin' }, 'no inputs: the standard AWS chain');
  });
});
