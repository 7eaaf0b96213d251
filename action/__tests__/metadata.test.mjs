// action.yml, restore/action.yml and save/action.yml agree with the code and with the runner's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import YAML from 'yaml';
import { repoRoot } from './harness.mjs';

const require = createRequire(import.meta.url);
const { Inputs, Outputs, ArtifactInputs, ArtifactOutputs, AssetInputs, AssetOutputs } = require('../src/core/index.js');

const load = (rel) => {
  const file = path.join(repoRoot, rel);
  return { file, text: fs.readFileSync(file, 'utf8'), doc: YAML.parse(fs.readFileSync(file, 'utf8')) };
};

for (const [rel, stages] of [['action.yml', ['main', 'post']], ['restore/action.yml', ['main']], ['save/action.yml', ['main']]]) {
  test(`${rel}: node24, bundled entry points exist, inputs known to the core`, () => {
    const { file, doc } = load(rel);
    assert.equal(doc.runs.using, 'node24');
    for (const stage of stages) {
      const script = path.resolve(path.dirname(file), doc.runs[stage]);
      assert.ok(fs.existsSync(script), `${doc.runs[stage]} exists`);
      assert.match(script, /action\/dist\/[a-z-]+\.js$/);
    }
    const known = new Set(Object.values(Inputs));
    for (const [name, spec] of Object.entries(doc.inputs)) {
      assert.ok(known.has(name), `input ${name} is handled by the core`);
      assert.equal(typeof spec.description, 'string');
      assert.doesNotMatch(spec.description, /\$\{\{/, `${name}: the runner rejects expressions in descriptions`);
    }
    assert.equal(doc.inputs.key.required, true);
    for (const name of Object.keys(doc.outputs || {})) assert.ok(Object.values(Outputs).includes(name));
  });
}

test('action.yml: post always runs (the post script decides from state and job-status)', () => {
  const { doc } = load('action.yml');
  assert.equal(doc.runs['post-if'], 'always()');
  assert.equal(doc.inputs['job-status'].default, '${{ job.status }}');
  assert.deepEqual(Object.keys(doc.outputs).sort(), ['cache-hit', 'cache-size', 'matched-key', 'primary-key']);
  for (const name of ['key', 'path', 'restore-keys', 'endpoint', 'region', 'bucket', 'prefix', 'access-key-id', 'secret-access-key',
    'scope', 'read-only', 'fail-on-cache-miss', 'lookup-only', 'save', 'compression-level', 'docker-image', 'binary', 'version']) {
    assert.ok(name in doc.inputs, `issue 4 input ${name}`);
  }
});

// The store inputs every sub-action shares with the main action, spelled and described the same.
const STORE_INPUTS = ['endpoint', 'region', 'bucket', 'prefix', 'access-key-id', 'secret-access-key', 'read-only', 'binary'];

for (const [rel, entry, own, outputs] of [
  ['artifact/action.yml', 'artifact', ArtifactInputs, ArtifactOutputs],
  ['assets/action.yml', 'assets', AssetInputs, AssetOutputs],
]) {
  test(`${rel}: node24, its bundled entry point, exactly its own inputs and the store inputs, its outputs`, () => {
    const { file, doc } = load(rel);
    assert.equal(doc.runs.using, 'node24');
    assert.equal(doc.runs.post, undefined, 'no post step');
    const script = path.resolve(path.dirname(file), doc.runs.main);
    assert.equal(script, path.join(repoRoot, 'action', 'dist', `${entry}.js`));
    assert.ok(fs.existsSync(script));
    assert.deepEqual(Object.keys(doc.inputs).sort(), [...new Set([...Object.values(own), ...STORE_INPUTS])].sort());
    assert.deepEqual(Object.keys(doc.outputs).sort(), Object.values(outputs).sort());
    const main = load('action.yml').doc;
    for (const name of STORE_INPUTS.filter((n) => n !== 'read-only')) assert.equal(doc.inputs[name].description, main.inputs[name].description, `${name} as in action.yml`);
    for (const [name, spec] of Object.entries(doc.inputs)) {
      assert.equal(typeof spec.description, 'string');
      assert.doesNotMatch(spec.description, /\$\{\{/);
    }
  });
}

test('artifact/action.yml: the issue\'s commands and inputs', () => {
  const { doc } = load('artifact/action.yml');
  for (const c of ['push', 'pull', 'publish', 'alias', 'pick']) assert.match(doc.inputs.command.description, new RegExp(`\`${c}\``));
  assert.equal(doc.inputs.command.required, true);
  assert.equal(doc.inputs.name.required, true);
  assert.equal(doc.inputs['read-only'].default, 'auto');
  assert.equal(load('assets/action.yml').doc.inputs.manifest.default, 's3pod.assets.json');
});

test('dist entry points are tiny and share one CommonJS bundle', () => {
  const dist = path.join(repoRoot, 'action', 'dist');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dist, 'package.json'), 'utf8')), { type: 'commonjs' });
  for (const entry of ['main', 'post', 'restore-only', 'save-only', 'artifact', 'assets']) {
    const text = fs.readFileSync(path.join(dist, `${entry}.js`), 'utf8');
    assert.ok(text.length < 300, `${entry}.js is a few lines`);
    assert.match(text, /require\("\.\/action\.js"\)/);
  }
});
