// Rules the wrappers repeat from the binary, kept equal by reading the binary's source (exit codes,
// the key limit) or by asking the binary itself (which endpoints it refuses; skipped without it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fakeHost } from './fake-host.mjs';

const require = createRequire(import.meta.url);
const { ExitCodes } = require('../src/core/constants.js');
const { MAX_KEY_BYTES, checkEndpoint } = require('../src/core/inputs.js');
const native = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'native', 'S3Pod');

/** `public const int Name = 3;` lines of a C# file, as { Name: 3 }. */
function constants(relative) {
  const text = fs.readFileSync(path.join(native, relative), 'utf8');
  return Object.fromEntries([...text.matchAll(/public const int (\w+) = (\d+);/g)].map((m) => [m[1], Number(m[2])]));
}

describe('the wrappers and the binary agree', () => {
  test('exit codes: constants.js is ExitCodes.cs', () => {
    const binary = constants('Commands/ExitCodes.cs');
    assert.ok(Object.keys(binary).length >= 7, 'ExitCodes.cs was not read');
    assert.deepEqual({ ...ExitCodes }, binary);
  });

  test('key limit: the wrappers allow what ObjectKeys.MaxBytes allows, counted in UTF-8 bytes', () => {
    assert.equal(MAX_KEY_BYTES, constants('Storage/ObjectKeys.cs').MaxBytes);
    const { readInputs } = require('../src/core/inputs.js');
    const read = (key) => readInputs(fakeHost({ key, path: 'p' }));
    assert.doesNotThrow(() => read('k'.repeat(MAX_KEY_BYTES)));
    assert.throws(() => read('k'.repeat(MAX_KEY_BYTES + 1)), /1025 bytes/);
    assert.throws(() => read('é'.repeat(MAX_KEY_BYTES / 2 + 1)), /1026 bytes/); // 513 characters, 1026 bytes
  });

  const endpoints = [
    ['http://127.0.0.1:9', true],
    ['https://127.0.0.1:9/', true],
    ['ftp://127.0.0.1:9', false],
    ['not a url', false],
    ['http://', false],
    ['http://user:pw@127.0.0.1:9', false],
  ];
  const binary = process.env.S3POD_TEST_BINARY;
  test('endpoints: the wrappers refuse exactly what the binary refuses', { skip: binary ? false : 'S3POD_TEST_BINARY is not set (path of the native s3pod binary)' }, () => {
    for (const [endpoint, valid] of endpoints) {
      let js = true;
      try { checkEndpoint(fakeHost({}), endpoint); } catch { js = false; }
      const r = spawnSync(binary, ['exists', 'k', '--bucket', 'bkt', '--endpoint', endpoint, '--retries', '0', '--connect-timeout', '1s'], {
        encoding: 'utf8', env: { ...process.env, S3POD_S3_KEY_ID: 'id', S3POD_S3_SECRET: 'secret', S3POD_CONFIG: '/nonexistent/s3pod.toml' }, timeout: 20000,
      });
      const refused = /^s3pod: endpoint/m.test(r.stderr);
      assert.equal(js, valid, `wrapper on ${endpoint}`);
      assert.equal(!refused, valid, `binary on ${endpoint}: ${r.stderr}`);
    }
  });
});
