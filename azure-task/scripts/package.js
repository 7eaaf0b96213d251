'use strict';
// `npm run package`: bundles each task entry point (main.js, post.js) into one CommonJS file with
// esbuild (task-lib and the shared core inlined), stages the extension and runs
// `tfx extension create` offline. Output: out/<publisher>.<id>-<version>.vsix.
// `node scripts/package.js --bundle-only DIR` only writes the staged task folder to DIR/S3PodV1.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const TASK = path.join(ROOT, 'S3PodV1');

/** Writes DIR/S3PodV1/{task.json,main.js,post.js}; returns the task folder. */
async function buildTask(stageDir) {
  const esbuild = require('esbuild');
  const out = path.join(stageDir, 'S3PodV1');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const entry of ['main.js', 'post.js']) {
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

/** Stages the extension and runs tfx; returns the .vsix path. */
async function packageExtension(outDir = path.join(ROOT, 'out')) {
  const stage = path.join(outDir, 'stage');
  fs.rmSync(stage, { recursive: true, force: true });
  await buildTask(stage);
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

module.exports = { buildTask, packageExtension };

if (require.main === module) {
  (async () => {
    const i = process.argv.indexOf('--bundle-only');
    if (i >= 0) {
      console.log(await buildTask(path.resolve(process.argv[i + 1] || path.join(ROOT, 'out', 'stage'))));
    } else {
      console.log(await packageExtension());
    }
  })().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
