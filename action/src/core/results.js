'use strict';

// The one place the wrappers read the binary's `--json` results. Field names are the binary's
// JSON contract (camelCase; `size` is always the bytes of the stored object):
//   restore   { primaryKey, matchedKey, exactMatch, matchedScope, size, restored, lookupOnly, files,
//               seconds, miss }   miss: null on a hit; on a miss { summary, reasons[], nearest[] }
//   save      { key, scope, saved, skippedReason, size, files, uncompressedSize, seconds, ..., image, imageId }
//             (save --path and save --docker-image; restore likewise)
//   transfer  { key, action, size, seconds, sha256, source, path, skipped, files, uncompressedSize }
//             (download, upload, dir upload/download, docker upload/download)
//   exists    { key, exists, size, lastModified }   (exists, docker exists)
//   key       { key, hash }
//   error     { error, exitCode }
//   artifact push | publish  { name, version, scheme, kind, digest, size, contentSize, files, blob,
//             uploaded, published, aliases, attempts, seconds }
//   artifact stage  { name, kind, digest, size, contentSize, files, blob, uploaded, previousDigest, seconds }
//   artifact pull   { name, version, resolvedBy, kind, path, digest, size, files, subPath, seconds }
//   artifact alias set, alias rollback  { name, alias, version, secondary, weight, previousVersion, changed }
//   artifact alias list { name, aliases [{ alias, version, secondary, weight, previous, updated, updatedBy }] }
//   artifact pick   { name, alias, version, picked, bucket, seed }
//   asset sync      { manifest, assetsDir, entries [{ path, name, version, digest, local, downloaded,
//             size }], downloaded, present, failed [{ path, error }] }
//   asset check     { manifest, ok, problems [{ path, problem, detail }] }
// A field the binary did not print reads as null: the flows then show '-' rather than guess.

const number = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const string = (value) => (typeof value === 'string' && value ? value : null);
const lines = (value) => (Array.isArray(value) ? value.filter((v) => typeof v === 'string' && v) : []);

/** Why a restore missed: { summary, reasons[] }, or null when the binary said nothing. */
function readMiss(miss) {
  if (!miss || typeof miss !== 'object') return null;
  const summary = string(miss.summary);
  const reasons = lines(miss.reasons);
  return summary || reasons.length ? { summary, reasons } : null;
}

/** `restore` -> { matchedKey, exactMatch, matchedScope, size, miss }. */
function readRestore(json) {
  const matchedKey = string(json?.matchedKey);
  return {
    matchedKey,
    exactMatch: json?.exactMatch === true && matchedKey !== null,
    matchedScope: string(json?.matchedScope),
    size: matchedKey ? number(json.size) : null,
    miss: matchedKey ? null : readMiss(json?.miss),
  };
}

/** `save` -> { saved, skippedReason, size, files, uncompressedSize }. */
function readSave(json) {
  return {
    saved: json?.saved === true,
    skippedReason: string(json?.skippedReason),
    size: number(json?.size),
    files: number(json?.files),
    uncompressedSize: number(json?.uncompressedSize),
    uploadedBytes: number(json?.uploadedBytes),
    reusedBytes: number(json?.reusedBytes),
  };
}

/** A transfer (`docker upload`, `docker download`) -> { skipped, size, files, uncompressedSize }. */
function readTransfer(json) {
  return {
    skipped: json?.skipped === true,
    size: number(json?.size),
    files: number(json?.files),
    uncompressedSize: number(json?.uncompressedSize),
  };
}

/** `exists` -> { exists, size }. */
function readExists(json) {
  return { exists: json?.exists === true, size: number(json?.size) };
}

/** `key` -> the key, or null. */
function readKey(json) {
  return string(json?.key);
}

/** `artifact push` / `artifact publish` -> { name, version, kind, digest, size, files, uploaded, published, attempts }. */
function readPush(json) {
  return {
    name: string(json?.name),
    version: string(json?.version),
    kind: string(json?.kind),
    digest: string(json?.digest),
    size: number(json?.size),
    files: number(json?.files),
    uploaded: json?.uploaded === true,
    published: json?.published !== false,
    attempts: number(json?.attempts),
  };
}

/** `artifact stage` -> { digest, size, uploaded, previousDigest }. */
function readStage(json) {
  return { digest: string(json?.digest), size: number(json?.size), uploaded: json?.uploaded === true, previousDigest: string(json?.previousDigest) };
}

/** `artifact pull` -> { name, version (null: the head), resolvedBy, kind, path, digest, size, files }. */
function readPull(json) {
  return {
    name: string(json?.name),
    version: string(json?.version),
    resolvedBy: string(json?.resolvedBy),
    kind: string(json?.kind),
    path: string(json?.path),
    digest: string(json?.digest),
    size: number(json?.size),
    files: number(json?.files),
  };
}

/** `artifact alias set` -> { alias, version, secondary, weight, previousVersion, changed }. */
function readAlias(json) {
  return {
    alias: string(json?.alias),
    version: string(json?.version),
    secondary: string(json?.secondary),
    weight: number(json?.weight),
    previousVersion: string(json?.previousVersion),
    changed: json?.changed !== false,
  };
}

/** `artifact alias list` -> [{ alias, version, secondary, weight, previous }]. */
function readAliasList(json) {
  const list = Array.isArray(json?.aliases) ? json.aliases : [];
  return list.map((a) => ({
    alias: string(a?.alias),
    version: string(a?.version),
    secondary: string(a?.secondary),
    weight: number(a?.weight),
    previous: string(a?.previous),
  })).filter((a) => a.alias);
}

/** `artifact pick` -> { version, picked, bucket }. */
function readPick(json) {
  return { version: string(json?.version), picked: string(json?.picked), bucket: number(json?.bucket) };
}

/**
 * `asset sync` -> { entries [{ path, name, version, digest, local, downloaded, size }], downloaded,
 * present, failed [{ path, error }], pruned [name:version] }.
 */
function readSync(json) {
  const entries = (Array.isArray(json?.entries) ? json.entries : []).map((e) => ({
    path: string(e?.path),
    name: string(e?.name),
    version: string(e?.version),
    digest: string(e?.digest),
    local: string(e?.local),
    downloaded: e?.downloaded === true,
    size: number(e?.size),
  }));
  const failed = (Array.isArray(json?.failed) ? json.failed : []).map((f) => ({ path: string(f?.path), error: string(f?.error) }));
  const pruned = (Array.isArray(json?.pruned) ? json.pruned : []).map(string).filter(Boolean);
  return { entries, downloaded: number(json?.downloaded), present: number(json?.present), failed, pruned };
}

/** `asset check` -> { ok, problems [{ path, problem, detail }] }. */
function readCheck(json) {
  const problems = (Array.isArray(json?.problems) ? json.problems : []).map((p) => ({
    path: string(p?.path),
    problem: string(p?.problem),
    detail: string(p?.detail),
  }));
  return { ok: json?.ok === true, problems };
}

module.exports = {
  readPush, readStage, readPull, readAlias, readAliasList, readPick, readSync, readCheck,
  readRestore, readSave, readTransfer, readExists, readKey, readMiss,
};
