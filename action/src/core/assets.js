'use strict';

// The assets flow (GitHub: assets/, Azure: S3PodAssets@1): every entry of the manifest synced into
// an assets directory that the cache keeps between runs.
//   1. check (optional): `s3pod asset check` fails on development overrides left in the manifest.
//   2. restore the assets directory from the cache, key s3pod-assets-<sha256 of the manifest>
//      (any older s3pod-assets-* as a fallback: most assets are then already there).
//   3. `s3pod asset sync`: downloads only what the directory lacks (nothing on an exact hit).
//   4. save the directory under the key unless it was an exact hit or the run is read-only.
//   5. S3POD_ASSETS_DIR for the later steps (s3pod asset path and programs read it), output assets-dir.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { checkHost } = require('./host');
const { maskSecrets, readConnection, readBinary, parseChoice, getString, getBoolean, raw, label, checkSingleLine } = require('./inputs');
const { makeContext, attachBinary, resolveReadOnly } = require('./context');
const { globalArgs, errorLine } = require('./run');
const { readRestore, readSave, readSync, readCheck } = require('./results');
const { InputError, S3podError } = require('./errors');
const { Inputs, AssetInputs: I, AssetOutputs, ASSETS_DIR_VARIABLE, ReadOnlyModes, ExitCodes } = require('./constants');
const { summaryTable, formatBytes, formatDuration, code, cell } = require('./summary');
const { reportFailure } = require('./report');

const DEFAULT_MANIFEST = 's3pod.assets.json';
const KEY_PREFIX = 's3pod-assets-';

/** Validated inputs of the assets step. Throws InputError naming the first bad input. */
function readAssetInputs(host) {
  const inputs = {};
  inputs.manifest = getString(host, I.Manifest) || DEFAULT_MANIFEST;
  checkSingleLine(host, I.Manifest, inputs.manifest);
  inputs.assetsDir = getString(host, I.AssetsDir);
  checkSingleLine(host, I.AssetsDir, inputs.assetsDir);
  inputs.check = getBoolean(host, I.Check, false);
  readConnection(host, inputs);
  inputs.readOnly = parseChoice(host, Inputs.ReadOnly, raw(host, Inputs.ReadOnly), ReadOnlyModes, 'auto');
  readBinary(host, inputs, I.S3podVersion);
  return inputs;
}

/** The cache key of an assets directory: the manifest's bytes decide what it holds. */
function assetsCacheKey(manifestBytes) {
  return `${KEY_PREFIX}${crypto.createHash('sha256').update(manifestBytes).digest('hex')}`;
}

function scopeArgs(ctx, { read }) {
  const args = [];
  if (ctx.scope) args.push('--scope', ctx.scope);
  if (read) for (const s of ctx.fallbackScopes) args.push('--fallback-scope', s);
  return args;
}

/** One line for what `asset check` found: "path: problem (detail); ...". */
function describeProblems(problems) {
  return problems.map((p) => `${p.path || '?'}: ${p.problem || 'problem'}${p.detail ? ` (${p.detail})` : ''}`).join('; ');
}

/**
 * The assets step. Resolves { status: 'done'|'failed', assetsDir, key, cache: 'hit'|'partial'|'miss'|'error',
 * downloaded, present, saved }. Never throws.
 */
async function runAssets(host) {
  try {
    checkHost(host);
    if (typeof host.exportVariable !== 'function') throw new TypeError('The host adapter lacks: exportVariable');
    maskSecrets(host);
    const inputs = readAssetInputs(host);
    const manifest = path.resolve(host.cwd, inputs.manifest);
    let manifestBytes;
    try {
      manifestBytes = fs.readFileSync(manifest);
    } catch (err) {
      throw new InputError(I.Manifest, `Input "${label(host, I.Manifest)}": cannot read ${inputs.manifest} (${err.code === 'ENOENT' ? 'no such file' : err.message})`);
    }
    const tempDir = host.toolOptions().tempDir || os.tmpdir();
    const assetsDir = path.resolve(host.cwd, inputs.assetsDir || path.join(tempDir, 's3pod-assets'));
    const scopes = host.scopes('');
    const ro = resolveReadOnly(inputs.readOnly, host);
    const ctx = makeContext(host, inputs, { scope: scopes.scope, fallbackScopes: scopes.fallbackScopes, readOnly: ro.readOnly, readOnlyReason: ro.reason });
    await attachBinary(ctx);
    const connection = globalArgs(inputs);
    fs.mkdirSync(assetsDir, { recursive: true });

    if (inputs.check) {
      const result = await ctx.run(['asset', 'check', '--manifest', manifest, ...connection]);
      const r = readCheck(result.json);
      if (result.exitCode === ExitCodes.NotFound && r.problems.length) {
        throw new S3podError(`${inputs.manifest} is not ready for CI: ${describeProblems(r.problems)}`, result.exitCode, result.stderr);
      }
      if (result.exitCode !== ExitCodes.Success || !r.ok) {
        throw new S3podError(`s3pod asset check failed: ${errorLine(result)}`, result.exitCode, result.stderr);
      }
      host.info(`${inputs.manifest}: no overrides, every entry pinned`);
    }

    // 2. The directory from the cache. A storage error here only costs downloads.
    const key = assetsCacheKey(manifestBytes);
    let cache = 'miss';
    let cacheSize = null;
    // The cache records its paths as given: run from the directory's parent with the bare name, so
    // that runners whose temporary directories differ still share the entry.
    const cacheRun = { cwd: path.dirname(assetsDir) };
    const cachePath = path.basename(assetsDir);
    const restored = await ctx.run(['restore', '--key', key, '--restore-key', KEY_PREFIX, '--path', cachePath, ...scopeArgs(ctx, { read: true }), ...connection], cacheRun);
    if (restored.exitCode === ExitCodes.Success && restored.json) {
      const r = readRestore(restored.json);
      cache = !r.matchedKey ? 'miss' : r.exactMatch ? 'hit' : 'partial';
      cacheSize = r.size;
      host.info(cache === 'miss' ? `No cached assets directory for ${key}` : `Assets directory restored from ${r.matchedKey} (${formatBytes(r.size)})`);
    } else {
      cache = 'error';
      host.warning(`Could not restore the cached assets directory: ${errorLine(restored)}`);
    }

    // 3. Sync.
    // --prune: the directory is this job's and the cache keeps it, so versions the manifest no longer
    // pins would otherwise pile up in every later save.
    const synced = await ctx.run(['asset', 'sync', '--prune', '--manifest', manifest, '--assets-dir', assetsDir, ...connection]);
    const s = readSync(synced.json);
    if (synced.exitCode !== ExitCodes.Success) {
      const why = s.failed.length
        ? s.failed.map((f) => `${f.path || '?'}: ${f.error || 'failed'}`).join('; ')
        : errorLine(synced);
      const kind = synced.exitCode === ExitCodes.Offline ? ' (the store cannot be reached)' : '';
      throw new S3podError(`Failed to sync the assets of ${inputs.manifest}${kind}: ${why}`, synced.exitCode, synced.stderr);
    }
    const downloaded = s.downloaded ?? s.entries.filter((e) => e.downloaded).length;
    const present = s.present ?? s.entries.filter((e) => !e.downloaded).length;
    host.info(`Synced ${s.entries.length} asset${s.entries.length === 1 ? '' : 's'} into ${assetsDir}: ${downloaded} downloaded, ${present} already there`);
    if (s.pruned.length) host.info(`Removed versions the manifest no longer pins: ${s.pruned.join(', ')}`);

    // 4. Save unless the cache already holds exactly this.
    let saved = 'no';
    if (cache === 'hit' && downloaded === 0) {
      saved = 'no (exact hit)';
    } else if (ctx.readOnly) {
      saved = `no (${ctx.readOnlyReason})`;
      host.info(`Not saving the assets directory: ${ctx.readOnlyReason}`);
    } else {
      const result = await ctx.run(['save', '--key', key, '--path', cachePath, ...scopeArgs(ctx, { read: false }), ...connection], cacheRun);
      if (result.exitCode === ExitCodes.Success) {
        const r = readSave(result.json);
        saved = r.saved ? `yes (${formatBytes(r.size)})` : `no (${r.skippedReason || 'exists'})`;
        host.info(r.saved ? `Assets directory saved with key ${key} (${formatBytes(r.size)})` : `Assets directory with key ${key} already saved`);
      } else {
        saved = 'failed';
        host.warning(`Could not save the assets directory: ${errorLine(result)}`);
      }
    }

    host.exportVariable(ASSETS_DIR_VARIABLE, assetsDir);
    host.setOutput(AssetOutputs.AssetsDir, assetsDir);
    const rows = [
      ['Manifest', code(inputs.manifest)],
      ['Assets directory', code(assetsDir)],
      ['Cache', `${{ hit: 'exact hit', partial: 'restore-key hit', miss: 'miss', error: 'error' }[cache]} (${code(key)})${cacheSize != null ? `, ${formatBytes(cacheSize)}` : ''}`],
      ['Downloaded', String(downloaded)],
      ['Already there', String(present)],
      ['Saved', cell(saved)],
      ['Time', formatDuration(synced.durationMs)],
    ];
    const table = ['', '| Asset | Version | Digest | Size | |', '|---|---|---|---|---|'];
    for (const e of s.entries) {
      table.push(`| ${code(e.path || e.name)} | ${code(e.version)} | ${code(e.digest && e.digest.slice(0, 19))} | ${formatBytes(e.size)} | ${e.downloaded ? 'downloaded' : 'present'} |`);
    }
    host.summary(summaryTable('s3pod assets', rows) + (s.entries.length ? `${table.join('\n')}\n` : ''));
    return { status: 'done', assetsDir, key, cache, downloaded, present, entries: s.entries, saved };
  } catch (err) {
    reportFailure(host, err);
    return { status: 'failed', message: err.message };
  }
}

module.exports = { runAssets, readAssetInputs, assetsCacheKey, DEFAULT_MANIFEST, KEY_PREFIX };
