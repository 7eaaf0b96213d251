// Bundles the entry points into committed CommonJS files in dist/ (the @actions/* packages are
// ESM-only; a CJS bundle runs on Node 20 and 24 without a loader). `--check` rebuilds into a
// temporary directory and fails when dist/ differs: dist/ must be rebuilt and committed.
import { build } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entries = ['main', 'post', 'restore-only', 'save-only', 'artifact', 'assets'];

const check = process.argv.includes('--check');
const outdir = check ? fs.mkdtempSync(path.join(os.tmpdir(), 's3pod-dist-')) : path.join(root, 'dist');

const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'warning',
};
// The shared code (core, host adapter, @actions/core) is bundled once into dist/action.js; the
// entry points stay a few lines each and require it.
await build({ ...common, entryPoints: { action: 'src/action.js' } });
await build({
  ...common,
  entryPoints: Object.fromEntries(entries.map((e) => [e, `src/${e}.js`])),
  plugins: [{
    name: 'shared-bundle',
    setup(b) {
      b.onResolve({ filter: /^\.\/action\.js$/ }, () => ({ path: './action.js', external: true }));
    },
  }],
});
// dist/ holds CommonJS although package.json says "type": "module".
fs.writeFileSync(path.join(outdir, 'package.json'), '{\n  "type": "commonjs"\n}\n');

if (check) {
  const distDir = path.join(root, 'dist');
  const names = new Set([...fs.readdirSync(outdir), ...(fs.existsSync(distDir) ? fs.readdirSync(distDir) : [])]);
  const stale = [...names].filter((name) => {
    const a = path.join(outdir, name);
    const b = path.join(distDir, name);
    return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
  });
  fs.rmSync(outdir, { recursive: true, force: true });
  if (stale.length) {
    console.error(`action/dist is stale (${stale.sort().join(', ')}): run \`npm run build\` in action/ and commit dist/`);
    process.exit(1);
  }
  console.log('action/dist is up to date');
}
