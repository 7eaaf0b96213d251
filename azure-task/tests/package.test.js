'use strict';
// `npm run package` end to end: esbuild bundles, tfx extension create (offline), and the .vsix
// holds the task as the agent needs it: task.json plus one self-contained file per entry point.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { packageExtension } = require('../scripts/package');

const ROOT = path.join(__dirname, '..');

/** Entry names from a zip's central directory (no unzip needed). */
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  const names = [];
  for (let i = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])), n = buf.readUInt16LE(i + 10), off = buf.readUInt32LE(i + 16); n > 0; n--) {
    const len = buf.readUInt16LE(off + 28);
    names.push(buf.toString('utf8', off + 46, off + 46 + len));
    off += 46 + len + buf.readUInt16LE(off + 30) + buf.readUInt16LE(off + 32);
  }
  return names;
}

test('versions agree: task.json, vss-extension.json, the pinned binary', () => {
  const task = require('../S3PodV1/task.json');
  const ext = require('../vss-extension.json');
  const sums = require('../../action/src/core/release-sums.json');
  const v = `${task.version.Major}.${task.version.Minor}.${task.version.Patch}`;
  assert.equal(ext.version, v);
  assert.equal(sums.version.split('.')[0], String(task.version.Major));
  assert.equal(task.name, 'S3Pod');
  assert.match(task.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.deepEqual(Object.keys(task.execution), ['Node20_1', 'Node24']);
  assert.deepEqual(Object.keys(task.postjobexecution), ['Node20_1', 'Node24']);
  for (const input of task.inputs) assert.match(input.name, /^[a-z][A-Za-z0-9]*$/, 'camelCase input names');
  for (const name of ['key', 'path', 'restoreKeys', 'cacheHitVar', 'endpoint', 'region', 'bucket', 'prefix', 'accessKeyId', 'secretAccessKey', 'scope', 'readOnly', 'failOnCacheMiss', 'lookupOnly', 'save', 'compressionLevel', 'binary']) {
    assert.ok(task.inputs.some((i) => i.name === name), name);
  }
  assert.deepEqual(ext.contributions[0].properties, { name: 'S3PodV1' });
});

test('npm run package writes a .vsix with the bundled task', async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-vsix-'));
  try {
    const vsix = await packageExtension(out);
    assert.equal(path.basename(vsix), 's3pod.s3pod-1.0.0.vsix');
    const names = zipEntries(vsix);
    for (const n of ['extension.vsixmanifest', 'S3PodV1/task.json', 'S3PodV1/main.js', 'S3PodV1/post.js']) assert.ok(names.includes(n), `${n} in ${names}`);
    assert.ok(!names.some((n) => n.includes('node_modules')), 'no node_modules: the entries are bundled');
    // The bundles run without node_modules: copy them somewhere bare and load them.
    const bare = path.join(out, 'stage', 'S3PodV1');
    for (const entry of ['main.js', 'post.js']) {
      const src = fs.readFileSync(path.join(bare, entry), 'utf8');
      assert.ok(!/require\("(azure-pipelines-task-lib|minimatch)/.test(src), `${entry} inlines its dependencies`);
    }
    const r = spawnSync(process.execPath, [path.join(bare, 'post.js')], { cwd: os.tmpdir(), env: { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: out }, encoding: 'utf8' });
    assert.match(r.stdout, /Skipping because restore step did not run/, r.stdout + r.stderr);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
