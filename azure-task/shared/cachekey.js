'use strict';
// Cache@2 key syntax -> s3pod key string. Pure (fs + crypto + minimatch), no task-lib,
// so it runs the same under MockTestRunner, in the bundle and in unit tests.
//
// Mapping (documented in azure-task/README.md, "How a Cache@2 key becomes an s3pod key"):
//   key      = segment ( "|" segment )*        segments are trimmed, empty ones dropped
//   segment  = literal | files
//   literal  = '"' text '"'                    quoted: always literal, quotes removed
//            | text without "/", "\", ".", "*", "?", "["   (or ending in ".")
//   files    = rule ( "," rule )*              rule = glob, "!glob" excludes
//   token(literal) = text with every byte outside [A-Za-z0-9_.-] written as %XX
//                    (and "." written as %2E when the token is only dots)
//   token(files)   = lowercase hex SHA-256 over, for each matched file in ordinal order of
//                    its path relative to the working directory,
//                    "\nSHA256(" + relPath + ")=[" + byteLength + "]" + hexSha256(content)
//                    (Cache@2's fingerprint bytes; Cache@2 prints them as base64)
//   s3pod key      = token ( "/" token )*
//   restore key    = token ( "/" token )* + "/"  (a prefix: Cache@2 appends a "**" segment)

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const minimatch = require('minimatch');

const SEPARATOR = '/';
const GLOB_CHARS = /[*?[]/;

class KeyError extends Error {
  constructor(input, message) {
    super(message);
    this.name = 'KeyError';
    this.input = input;
  }
}

function splitSegments(text, input) {
  if (/[\r\n]/.test(text)) {
    throw new KeyError(input, `input '${input}' must be one line (segments are separated by "|")`);
  }
  return text
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function isQuoted(segment) {
  return segment.length >= 2 && segment.startsWith('"') && segment.endsWith('"');
}

/** Cache@2's rule, plus globs: a segment names files when it looks like a path. */
function isFileSegment(segment) {
  if (isQuoted(segment)) return false;
  if (segment.endsWith('.')) return false;
  return /[/\\.]/.test(segment) || GLOB_CHARS.test(segment);
}

function escapeToken(text) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.-]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  // "." and ".." would read as path components to a directory store or a careless client.
  if (/^\.+$/.test(out)) out = out.replace(/\./g, '%2E');
  return out;
}

function toPosix(p) {
  return p.split(path.sep).join('/');
}

/** The leading part of an absolute pattern that has no glob characters. */
function globRoot(absPattern) {
  const parts = absPattern.split('/');
  const fixed = [];
  for (const part of parts) {
    if (GLOB_CHARS.test(part)) break;
    fixed.push(part);
  }
  if (fixed.length === parts.length) return { root: absPattern, literal: true };
  return { root: fixed.join('/') || '/', literal: false };
}

function walkFiles(root, out) {
  let st;
  try {
    st = fs.statSync(root);
  } catch {
    return;
  }
  if (st.isFile()) {
    out.push(root);
    return;
  }
  if (!st.isDirectory()) return;
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop();
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const full = dir === '/' ? '/' + e.name : dir + '/' + e.name;
      if (e.isDirectory()) stack.push(full);
      else if (e.isFile()) out.push(full);
      else if (e.isSymbolicLink()) {
        // Follow links to files; never descend through linked directories (cycles).
        try {
          if (fs.statSync(full).isFile()) out.push(full);
        } catch {
          /* dangling link */
        }
      }
    }
  }
}

function absolutePattern(rule, cwd) {
  const abs = path.isAbsolute(rule) ? rule : path.join(cwd, rule);
  return toPosix(path.normalize(abs)).replace(/\/+$/, '') || '/';
}

/** Files named by one file segment, sorted by ordinal relative path. */
function matchFiles(segment, cwd) {
  const rules = segment
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const includes = rules.filter((r) => !r.startsWith('!'));
  const excludes = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).trim());
  const opts = { dot: true, nobrace: true };
  const found = new Set();
  for (const rule of includes) {
    const pattern = absolutePattern(rule, cwd);
    const { root, literal } = globRoot(pattern);
    const candidates = [];
    walkFiles(root, candidates);
    for (const f of candidates) {
      if (literal ? f === pattern || f.startsWith(pattern + '/') : minimatch(f, pattern, opts)) {
        found.add(f);
      }
    }
  }
  const excludePatterns = excludes.map((r) => absolutePattern(r, cwd));
  const files = [...found].filter(
    (f) => !excludePatterns.some((p) => minimatch(f, p, opts) || f.startsWith(p + '/')),
  );
  const base = toPosix(cwd);
  return files
    .map((abs) => ({ abs, rel: toPosix(path.relative(base, abs)) }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

function sha256Hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function fingerprintFiles(files) {
  let text = '';
  for (const f of files) {
    const content = fs.readFileSync(f.abs);
    text += `\nSHA256(${f.rel})=[${content.length}]${sha256Hex(content)}`;
  }
  return sha256Hex(Buffer.from(text, 'utf8'));
}

function resolveSegment(segment, cwd, input) {
  if (segment === '*' || segment === '**') {
    throw new KeyError(input, `input '${input}': '${segment}' is not a valid key segment (for all files use "./${segment}")`);
  }
  if (!isFileSegment(segment)) {
    const text = isQuoted(segment) ? segment.slice(1, -1) : segment;
    if (text.length === 0) throw new KeyError(input, `input '${input}' has an empty quoted segment`);
    return { segment, kind: 'literal', token: escapeToken(text) };
  }
  const files = matchFiles(segment, cwd);
  if (files.length === 0) {
    throw new KeyError(
      input,
      `input '${input}': segment '${segment}' looks like a file path but matched no files under ${cwd} (quote it to use it as text)`,
    );
  }
  return { segment, kind: 'files', token: fingerprintFiles(files), files: files.map((f) => f.rel) };
}

/**
 * Resolve a Cache@2 key. Returns { key, segments } where key is the s3pod key string.
 * @param {string} text   the key input
 * @param {string} cwd    System.DefaultWorkingDirectory (relative paths resolve against it)
 */
function resolveKey(text, cwd, input = 'key') {
  const segments = splitSegments(text, input);
  if (segments.length === 0) throw new KeyError(input, `input '${input}' is empty`);
  const resolved = segments.map((s) => resolveSegment(s, cwd, input));
  return { key: resolved.map((r) => r.token).join(SEPARATOR), segments: resolved };
}

/** Each line of restoreKeys is a Cache@2 key; the result is a prefix ending in "/". */
function resolveRestoreKeys(lines, cwd, input = 'restoreKeys') {
  return lines.map((line) => {
    const segments = splitSegments(line, input);
    if (segments.length === 0) throw new KeyError(input, `input '${input}' has an empty line`);
    return segments.map((s) => resolveSegment(s, cwd, input).token).join(SEPARATOR) + SEPARATOR;
  });
}

/** "Resolved to" text in Cache@2's style, for the log. */
function describe(resolved) {
  return resolved.segments
    .map((s) => (s.kind === 'files' ? `${s.segment} [${s.files.length} file${s.files.length === 1 ? '' : 's'}]` : s.segment))
    .join(' | ');
}

module.exports = {
  SEPARATOR,
  KeyError,
  splitSegments,
  isFileSegment,
  escapeToken,
  matchFiles,
  fingerprintFiles,
  resolveKey,
  resolveRestoreKeys,
  describe,
};
