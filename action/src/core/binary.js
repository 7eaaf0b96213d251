'use strict';

const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFile } = require('node:child_process');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { BinaryError } = require('./errors');

const RELEASE_SUMS = require('./release-sums.json');

// The runner's OS and architecture as GitHub (RUNNER_OS, RUNNER_ARCH), Azure (Agent.OS,
// Agent.OSArchitecture) and Node (process.platform, process.arch) name them, lowercased, mapped to
// the names in the release assets. X86 and ARM (32-bit) have no build.
const ASSET_OS = { linux: 'linux', macos: 'osx', darwin: 'osx', windows: 'win', windows_nt: 'win', win32: 'win' };
const ASSET_ARCH = { x64: 'x64', arm64: 'arm64' };

/**
 * The release asset for an OS and architecture, in CI or Node spelling: s3pod-<os>-<arch>, with
 * .exe on Windows ('Linux', 'ARM64' -> 's3pod-linux-arm64'). null when no binary is built for it.
 */
function assetName(osName = process.platform, archName = process.arch) {
  const osPart = ASSET_OS[String(osName).toLowerCase()];
  const archPart = ASSET_ARCH[String(archName).toLowerCase()];
  if (!osPart || !archPart) return null;
  return `s3pod-${osPart}-${archPart}${osPart === 'win' ? '.exe' : ''}`;
}

async function sha256File(file) {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

// Windows has no execute bit: there a file runs by its extension (.exe), which callers check.
function isExecutableFile(file, platform = process.platform) {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return false;
    if (platform === 'win32') return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `<file> --version` and returns the trimmed stdout, or null when it fails. */
function probeVersion(file, timeoutMs = 15000) {
  return new Promise((resolve) => {
    execFile(file, ['--version'], { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      if (err) return resolve(null);
      resolve(String(stdout).trim().replace(/^v/, '').split(/\s+/).pop() || null);
    });
  });
}

/** Every `s3pod` executable on PATH, in PATH order. */
function findOnPath(env = process.env, platform = process.platform) {
  const dirs = String(env.PATH || env.Path || '').split(path.delimiter).filter(Boolean);
  const exts = platform === 'win32'
    ? String(env.PATHEXT || '.EXE;.CMD;.BAT').split(';').filter(Boolean).map((e) => e.toLowerCase())
    : [''];
  const found = [];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, `s3pod${ext}`);
      if (isExecutableFile(candidate, platform) && !found.includes(candidate)) found.push(candidate);
    }
  }
  return found;
}

/** Parses a `sha256sum` listing ("<hex>  <name>" or "<hex> *<name>") into { name: hex }. */
function parseSha256Sums(text) {
  const sums = {};
  for (const line of String(text).split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (match) sums[path.basename(match[2])] = match[1].toLowerCase();
  }
  return sums;
}

async function download(url, dest, { timeoutMs = 300000, token } = {}) {
  const headers = { 'user-agent': 's3pod-action', accept: 'application/octet-stream' };
  if (token) headers.authorization = `token ${token}`;
  let response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new BinaryError(`Could not download ${url}: ${err.cause?.message || err.message}`);
  }
  if (!response.ok || !response.body) {
    throw new BinaryError(`Could not download ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  await pipeline(Readable.fromWeb(response.body), fs.createWriteStream(dest, { mode: 0o755 }));
}

/** 'linux-x64, osx-arm64' from the assets that have a committed SHA-256. */
function availablePlatforms(sums) {
  const names = Object.keys(sums.assets || {}).map((a) => a.replace(/^s3pod-|\.exe$/g, '')).sort();
  return names.length ? names.join(', ') : 'none';
}

/**
 * Finds or installs the s3pod binary. Order:
 *   1. `binary` (a path given by the user): must exist; used as is.
 *   2. `s3pod` on PATH whose `--version` equals the wanted version.
 *   3. The tool cache: <toolCacheDir>/s3pod/<version>/<os-arch>/s3pod, if its SHA-256 still matches.
 *   4. The release asset <serverUrl>/<repository>/releases/download/v<version>/<asset> (default
 *      https://github.com and the repository in release-sums.json), verified against the SHA-256
 *      committed in release-sums.json, then moved into the tool cache.
 * The asset is the one for `runner` ({ os, arch, names } as the CI names them; Node's own values
 * when the CI gives none). Options: { binary, version, env, runner, toolCacheDir, tempDir,
 * serverUrl, repository, sums, binaryInput, download, log: { info, debug } }; binaryInput is how the
 * host spells the `binary` input; download(url, dest, { token }) replaces the built-in fetch (the
 * action passes one that goes through HTTPS_PROXY). Returns { path, version, source }.
 * Throws BinaryError with a one-line message on any failure (not found, no binary for this
 * platform, HTTP error, checksum mismatch).
 */
async function locateBinary(options = {}) {
  const env = options.env || process.env;
  const log = options.log || { info() {}, debug() {} };
  const sums = options.sums || RELEASE_SUMS;
  const binaryInput = options.binaryInput || 'binary';
  const runner = options.runner?.os && options.runner?.arch
    ? options.runner
    : { os: process.platform, arch: process.arch, names: 'process.platform/process.arch' };
  const version = (options.version || sums.version || '').replace(/^v/, '');

  if (options.binary) {
    const file = path.resolve(options.binary.replace(/^~(?=$|[\\/])/, os.homedir()));
    if (!isExecutableFile(file)) {
      throw new BinaryError(`Input "${binaryInput}": ${file} does not exist or is not an executable file`);
    }
    return { path: file, version: null, source: 'input' };
  }

  for (const candidate of findOnPath(env)) {
    const found = await probeVersion(candidate);
    if (found === version) {
      log.info(`Using s3pod ${found} from PATH: ${candidate}`);
      return { path: candidate, version: found, source: 'path' };
    }
    log.debug(`Ignoring ${candidate}: version ${found ?? 'unknown'}, wanted ${version}`);
  }

  if (sums.version !== version) {
    throw new BinaryError(`Cannot verify s3pod ${version}: the SHA-256 sums committed here are for s3pod ${sums.version}; put s3pod ${version} on PATH or set the ${binaryInput} input`);
  }
  const asset = assetName(runner.os, runner.arch);
  const expected = asset ? sums.assets?.[asset] : undefined;
  if (!expected) {
    throw new BinaryError(`No s3pod ${version} binary for ${runner.os} ${runner.arch} (${runner.names}); binaries exist for: ${availablePlatforms(sums)}. Put s3pod on PATH or set the ${binaryInput} input`);
  }

  const toolCacheDir = options.toolCacheDir || path.join(os.tmpdir(), 's3pod-tools');
  const installDir = path.join(toolCacheDir, 's3pod', version, asset.replace(/^s3pod-|\.exe$/g, ''));
  const installed = path.join(installDir, asset.endsWith('.exe') ? 's3pod.exe' : 's3pod');
  const marker = `${installDir}.complete`;
  if (fs.existsSync(marker) && isExecutableFile(installed)) {
    if ((await sha256File(installed)) === expected) {
      log.info(`Using s3pod ${version} from the tool cache: ${installed}`);
      return { path: installed, version, source: 'tool-cache' };
    }
    log.info(`The cached s3pod at ${installed} does not match its checksum; downloading it again`);
  }

  const serverUrl = String(options.serverUrl || 'https://github.com').replace(/\/+$/, '');
  const repository = options.repository || sums.repository;
  const url = `${serverUrl}/${repository}/releases/download/v${version}/${asset}`;
  const tempDir = options.tempDir || os.tmpdir();
  await fsp.mkdir(tempDir, { recursive: true });
  const temp = path.join(tempDir, `${asset}.${process.pid}.${crypto.randomUUID()}.download`);
  log.info(`Downloading s3pod ${version} from ${url}`);
  try {
    if (options.download) {
      try {
        await options.download(url, temp, { token: options.token });
      } catch (err) {
        throw err instanceof BinaryError ? err : new BinaryError(`Could not download ${url}: ${err.cause?.message || err.message}`);
      }
    } else {
      await download(url, temp, { token: options.token });
    }
    const actual = await sha256File(temp);
    if (actual !== expected) {
      throw new BinaryError(`Checksum mismatch for ${asset} from ${url}: expected SHA-256 ${expected}, got ${actual}; refusing to run it`);
    }
    await fsp.mkdir(installDir, { recursive: true });
    await fsp.rm(marker, { force: true });
    await fsp.copyFile(temp, installed);
    await fsp.chmod(installed, 0o755);
    await fsp.writeFile(marker, `${expected}\n`);
  } finally {
    await fsp.rm(temp, { force: true });
  }
  log.info(`Installed s3pod ${version} (sha256 ${expected}) to ${installed}`);
  return { path: installed, version, source: 'download' };
}

module.exports = { locateBinary, assetName, parseSha256Sums, sha256File, findOnPath, probeVersion, RELEASE_SUMS };
