// Regenerates src/core/release-sums.json from the SHA256SUMS that ./publish-aot.sh writes
// (default: ../dist/SHA256SUMS), then rebuild dist/ (npm run build) and commit both.
//   node scripts/update-release-sums.mjs [SHA256SUMS] [--version X.Y.Z] [--repository owner/name]
// The version defaults to <Version> in ../Directory.Build.props: the action downloads exactly the
// release it was built with.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parseSha256Sums } = require('../src/core/binary.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'src', 'core', 'release-sums.json');

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const current = JSON.parse(fs.readFileSync(target, 'utf8'));
const repository = flag('--repository') || current.repository;
let version = flag('--version');
if (!version) {
  const props = fs.readFileSync(path.join(root, '..', 'Directory.Build.props'), 'utf8');
  version = /<Version>([^<]+)<\/Version>/.exec(props)?.[1];
}
if (!version) {
  console.error('No version: pass --version or set <Version> in Directory.Build.props');
  process.exit(2);
}
const sumsFile = args[0] || path.join(root, '..', 'dist', 'SHA256SUMS');
if (!fs.existsSync(sumsFile)) {
  console.error(`${sumsFile} does not exist: run ./publish-aot.sh first`);
  process.exit(2);
}
const assets = Object.fromEntries(Object.entries(parseSha256Sums(fs.readFileSync(sumsFile, 'utf8')))
  .filter(([name]) => /^s3pod-[a-z]+-[a-z0-9]+(\.exe)?$/.test(name))
  .sort(([a], [b]) => a.localeCompare(b)));
if (!Object.keys(assets).length) {
  console.error(`${sumsFile} lists no s3pod-<os>-<arch> assets`);
  process.exit(2);
}
// Keep sums for assets built elsewhere (other OS runners) when the version is unchanged.
const merged = current.version === version ? { ...current.assets, ...assets } : assets;
const next = { version, repository, assets: Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b))) };
fs.writeFileSync(target, `${JSON.stringify(next, null, 2)}\n`);
console.log(`release-sums.json: s3pod ${version} from ${repository}, ${Object.keys(next.assets).join(', ')}`);
console.log('Now run `npm run build` and commit src/core/release-sums.json and dist/.');
