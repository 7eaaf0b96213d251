'use strict';
// Cache@2 key syntax -> s3pod key (shared/cachekey.js), without the task runner.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const ck = require('../shared/cachekey');
const { computeScopes, untrustedReason, jobStatus } = require('../shared/azure-rules');

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const trees = [];
process.once('exit', () => trees.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
function tree(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-ck-'));
  trees.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}
/** The documented fingerprint, computed independently. */
function fingerprint(entries) {
  return sha(entries.map(([rel, content]) => `\nSHA256(${rel})=[${Buffer.byteLength(content)}]${sha(content)}`).join(''));
}

test('which segments name files (Cache@2 rules plus globs)', () => {
  for (const s of ['yarn.lock', 'src/x', '**/*.csproj', 'a\\b', 'Gemfile*', 'lock?', '[ab].txt']) assert.ok(ck.isFileSegment(s), s);
  for (const s of ['yarn', '"yarn.lock"', 'v1.', 'Linux', 'node-20', '"a/b"']) assert.ok(!ck.isFileSegment(s), s);
});

test('literal segments: quotes removed, key-unsafe bytes written as %XX, joined by /', () => {
  const dir = tree({});
  assert.equal(ck.resolveKey('npm | "Linux" | v1', dir).key, 'npm/Linux/v1');
  assert.equal(ck.resolveKey(' a  |  | b ', dir).key, 'a/b');
  assert.equal(ck.resolveKey('"a b/c" | "ü%" | "version 1.2"', dir).key, 'a%20b%2Fc/%C3%BC%25/version%201.2');
  assert.equal(ck.resolveKey('".." | "."', dir).key, '%2E%2E/%2E');
});

test('file segments: Cache@2 fingerprint (sorted relative paths, lengths, SHA-256s) in hex', () => {
  const dir = tree({ 'b/yarn.lock': 'B', 'a/yarn.lock': 'AA', 'node_modules/x/yarn.lock': 'N', 'c.txt': 'C' });
  const r = ck.resolveKey('yarn | **/yarn.lock, !node_modules/**', dir);
  assert.equal(r.key, `yarn/${fingerprint([['a/yarn.lock', 'AA'], ['b/yarn.lock', 'B']])}`);
  assert.deepEqual(r.segments[1].files, ['a/yarn.lock', 'b/yarn.lock']);
  assert.equal(ck.resolveKey('c.txt', dir).key, fingerprint([['c.txt', 'C']]));
  assert.equal(ck.resolveKey(path.join(dir, 'c.txt'), '/').key, fingerprint([[path.relative('/', path.join(dir, 'c.txt')), 'C']]));
});

test('same content -> same key; changed content or a renamed file -> different key', () => {
  const a = ck.resolveKey('k | lock.json', tree({ 'lock.json': '1' })).key;
  assert.equal(ck.resolveKey('k | lock.json', tree({ 'lock.json': '1' })).key, a);
  assert.notEqual(ck.resolveKey('k | lock.json', tree({ 'lock.json': '2' })).key, a);
  assert.notEqual(ck.resolveKey('k | *.json', tree({ 'other.json': '1' })).key, a);
});

test('a directory segment hashes every file below it', () => {
  const dir = tree({ 'deps/a': '1', 'deps/sub/b': '2' });
  assert.equal(ck.resolveKey('./deps', dir).key, fingerprint([['deps/a', '1'], ['deps/sub/b', '2']]));
});

test('restore keys are segment prefixes ending in /', () => {
  const dir = tree({ 'x.lock': 'x' });
  assert.deepEqual(ck.resolveRestoreKeys(['npm | "Linux"', 'npm', 'n | x.lock'], dir), ['npm/Linux/', 'npm/', `n/${fingerprint([['x.lock', 'x']])}/`]);
});

test('errors name the input', () => {
  const dir = tree({});
  assert.throws(() => ck.resolveKey('a | missing/*.lock', dir), (e) => e.input === 'key' && /matched no files/.test(e.message));
  assert.throws(() => ck.resolveKey('a | **', dir), (e) => e.input === 'key');
  assert.throws(() => ck.resolveKey('a\nb', dir), (e) => e.input === 'key');
  assert.throws(() => ck.resolveKey('a | ""', dir), (e) => e.input === 'key');
  assert.throws(() => ck.resolveRestoreKeys(['x | no.such'], dir), (e) => e.input === 'restoreKeys');
});

test('scopes: branch; PR reads target (normalised to refs/heads/); explicit; none', () => {
  const vars = (v) => (n) => v[n];
  assert.deepEqual(computeScopes('', vars({ 'Build.SourceBranch': 'refs/heads/dev' })), { scope: 'refs/heads/dev', fallbackScopes: [] });
  assert.deepEqual(
    computeScopes('', vars({ 'Build.SourceBranch': 'refs/pull/3/merge', 'System.PullRequest.TargetBranch': 'main' })),
    { scope: 'refs/pull/3/merge', fallbackScopes: ['refs/heads/main'] },
  );
  assert.deepEqual(
    computeScopes('', vars({ 'Build.SourceBranch': 'refs/pull/3/merge', 'System.PullRequest.TargetBranch': 'refs/heads/rel' })).fallbackScopes,
    ['refs/heads/rel'],
  );
  assert.deepEqual(computeScopes('team-cache', vars({ 'Build.SourceBranch': 'refs/heads/dev' })), { scope: 'team-cache', fallbackScopes: [] });
  assert.deepEqual(computeScopes('none', vars({ 'Build.SourceBranch': 'refs/heads/dev' })), { scope: null, fallbackScopes: [] });
  assert.deepEqual(computeScopes('', vars({})), { scope: null, fallbackScopes: [] });
});

test('readOnly: auto trusts everything but a fork (System.PullRequest.IsFork)', () => {
  const vars = (v) => (n) => v[n];
  assert.equal(untrustedReason(vars({ 'System.PullRequest.IsFork': 'True' })), 'pull requests from forks are read-only');
  assert.equal(untrustedReason(vars({ 'System.PullRequest.IsFork': 'true' })), 'pull requests from forks are read-only');
  assert.equal(untrustedReason(vars({ 'System.PullRequest.IsFork': 'False' })), '');
  assert.equal(untrustedReason(vars({})), '');
});

test('job status: only Succeeded counts as success; a missing or unknown status is named, not guessed', () => {
  const vars = (v) => (n) => v[n];
  assert.equal(jobStatus(vars({ 'Agent.JobStatus': 'Succeeded' })), 'success');
  assert.equal(jobStatus(vars({ 'Agent.JobStatus': 'SucceededWithIssues' })), 'partial');
  assert.equal(jobStatus(vars({ 'Agent.JobStatus': 'Canceled' })), 'cancelled');
  assert.equal(jobStatus(vars({})), "'not set'");
  assert.equal(jobStatus(vars({ 'Agent.JobStatus': 'Skipped' })), "'Skipped'");
});
