'use strict';
// `npm run package`: bundles each task's entry points (S3PodV1: main.js, post.js; S3PodArtifactV1
// and S3PodAssetsV1: main.js) into one CommonJS file each with esbuild (task-lib and the shared
// code in shared/ and action/src/core inlined), stages the extension and runs `tfx extension create` offline. Output:
// out/<publisher>.<id>-<version>.vsix.
// `node scripts/package.js --bundle-only DIR` only writes the staged task folders to DIR/<task>.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');

/** The tasks of the extension: folder -> entry points (the same list as vss-extension.json's files). */
const TASKS = Object.freeze({
  S3PodV1: ['main.js', 'post.js'],
  S3PodArtifactV1: ['main.js'],
  S3PodAssetsV1: ['main.js'],
});

/** Writes DIR/<task>/{task.json,main.js[,post.js]} for one task (default S3PodV1); returns its folder. */
async function buildTask(stageDir, task = 'S3PodV1') {
  const esbuild = require('esbuild');
  const TASK = path.join(ROOT, task);
  const out = path.join(stageDir, task);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const entry of TASKS[task]) {
    await esbuild.build({
      entryPoints: [path.join(TASK, entry)],
      outfile: path.join(out, entry),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
  fs.copyFileSync(path.join(TASK, 'task.json'), path.join(out, 'task.json'));
  for (const extra of ['icon.png', 'icon.svg']) {
    if (fs.existsSync(path.join(TASK, extra))) fs.copyFileSync(path.join(TASK, extra), path.join(out, extra));
  }
  return out;
}

/** Writes every task of the extension into DIR; returns { task: folder }. */
async function buildTasks(stageDir) {
  const out = {};
  for (const task of Object.keys(TASKS)) out[task] = await buildTask(stageDir, task);
  return out;
}

/** Stages the extension and runs tfx; returns the .vsix path. */
async function packageExtension(outDir = path.join(ROOT, 'out')) {
  const stage = path.join(outDir, 'stage');
  fs.rmSync(stage, { recursive: true, force: true });
  await buildTasks(stage);
  fs.copyFileSync(path.join(ROOT, 'vss-extension.json'), path.join(stage, 'vss-extension.json'));
  fs.copyFileSync(path.join(ROOT, 'README.md'), path.join(stage, 'README.md'));
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8'));
  const vsix = path.join(outDir, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
  fs.rmSync(vsix, { force: true });
  const tfx = require.resolve('tfx-cli/_build/tfx-cli.js');
  execFileSync(process.execPath, [
    tfx, 'extension', 'create',
    '--root', stage,
    '--manifest-globs', 'vss-extension.json',
    '--output-path', vsix,
    '--no-prompt', '--no-color',
  ], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, TFX_TRACE: '' } });
  if (!fs.existsSync(vsix)) throw new Error(`tfx did not write ${vsix}`);
  return vsix;
}

module.exports = { TASKS, buildTask, buildTasks, packageExtension };

if (require.main === module) {
  (async () => {
    const i = process.argv.indexOf('--bundle-only');
    if (i >= 0) {
      console.log(Object.values(await buildTasks(path.resolve(process.argv[i + 1] || path.join(ROOT, 'out', 'stage')))).join('\n'));
    } else {
      console.log(await packageExtension());
    }
  })().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
