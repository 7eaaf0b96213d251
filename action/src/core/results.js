'use strict';

// The one place the wrappers read the binary's `--json` results. Field names are the binary's
// JSON contract (camelCase; `size` is always the bytes of the stored object):
//   restore   { primaryKey, matchedKey, exactMatch, matchedScope, size, restored, lookupOnly, files,
//               seconds, miss }   miss: null on a hit; on a miss { summary, reasons[], nearest[] }
//   save      { key, scope, saved, skippedReason, size, files, uncompressedSize, seconds }
//   transfer  { key, action, size, seconds, sha256, source, path, skipped, files, uncompressedSize }
//             (download, upload, dir upload/download, docker upload/download)
//   exists    { key, exists, size, lastModified }   (docker exists)
//   key       { key, hash }
//   error     { error, exitCode }
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

module.exports = { readRestore, readSave, readTransfer, readExists, readKey, readMiss };
