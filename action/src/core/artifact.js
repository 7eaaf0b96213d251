'use strict';

// The artifact flow (GitHub: artifact/, Azure: S3PodArtifact@1): one `s3pod artifact` command per
// step, chosen by the `command` input. The binary does the work; this file turns inputs into its
// arguments, refuses writes in read-only runs, moves aliases one by one so that it can say where
// each one was before, and reports outputs and a job summary.

const path = require('node:path');
const { checkHost } = require('./host');
const { maskSecrets, readConnection, readBinary, parseChoice, getString, getList, raw, label, checkSingleLine } = require('./inputs');
const { makeContext, attachBinary, resolveReadOnly } = require('./context');
const { globalArgs, errorLine } = require('./run');
const { readPush, readStage, readPull, readAlias, readPick } = require('./results');
const { InputError, S3podError } = require('./errors');
const { Inputs, ArtifactInputs: A, ArtifactOutputs, ArtifactCommands, BumpParts, ReadOnlyModes, ExitCodes } = require('./constants');
const { summaryTable, formatBytes, formatDuration, code, cell } = require('./summary');
const { reportFailure } = require('./report');

/** Which inputs each command reads; any other artifact input given with it is a mistake. */
const USES = Object.freeze({
  push: [A.Path, A.Version, A.Bump, A.Alias, A.Meta],
  publish: [A.Path, A.Version, A.Bump, A.Alias, A.Meta],
  alias: [A.Version, A.Alias, A.Secondary, A.Weight, A.Expect],
  pull: [A.Path],
  pick: [A.Path],
});
const WRITES = new Set(['push', 'publish', 'alias']);

/** `version: previous` rolls an alias back to the version it pointed at before its last move. */
const PREVIOUS = 'previous';

// The binary's rules, checked here first so that the error names the input, not a flag.
const NAME = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;
const ALIAS = /^[A-Za-z0-9._-]+$/;
const META_KEY = /^[A-Za-z0-9._-]+$/;

function fail(host, name, message) {
  return new InputError(name, message.replace('{}', `"${label(host, name)}"`));
}

/** Validated inputs of the artifact step. Throws InputError naming the first bad input. */
function readArtifactInputs(host) {
  const inputs = {};
  const commandText = raw(host, A.Command);
  if (!commandText) throw fail(host, A.Command, `Input required and not supplied: ${label(host, A.Command)}`);
  inputs.command = parseChoice(host, A.Command, commandText, ArtifactCommands, null);
  const { command } = inputs;

  for (const name of [A.Path, A.Version, A.Bump, A.Alias, A.Secondary, A.Weight, A.Expect, A.Meta]) {
    if (raw(host, name) && !USES[command].includes(name)) {
      throw fail(host, name, `Input {} is not used by ${label(host, A.Command)}: ${host.valueName(A.Command, command)}`);
    }
  }

  inputs.name = getString(host, A.Name);
  if (!inputs.name) throw fail(host, A.Name, `Input required and not supplied: ${label(host, A.Name)}`);
  checkSingleLine(host, A.Name, inputs.name);
  if (command === 'pull') {
    // A spec: name[:selector][@sha256:HEX][[sub/path]]; the binary checks the rest.
    const base = inputs.name.split(/[:@[]/)[0];
    if (!NAME.test(base)) throw fail(host, A.Name, `Input {} must be an artifact spec such as app, app:3 or app:live, not "${inputs.name}"`);
  } else if (command === 'pick') {
    const m = /^([^:@[\]]+):([^:@[\]]+)$/.exec(inputs.name);
    if (!m || !NAME.test(m[1]) || !ALIAS.test(m[2])) {
      throw fail(host, A.Name, `Input {} must name the artifact and the alias to pick from, such as app:live, not "${inputs.name}"`);
    }
    inputs.artifact = m[1];
    inputs.pickAlias = m[2];
  } else if (!NAME.test(inputs.name)) {
    throw fail(host, A.Name, `Input {} must be an artifact name (segments of letters, digits, ".", "_", "-" joined by "/") for ${label(host, A.Command)}: ${host.valueName(A.Command, command)}, not "${inputs.name}"${/:/.test(inputs.name) ? ' (a spec such as app:3 is for pull and pick)' : ''}`);
  }

  inputs.path = getString(host, A.Path);
  checkSingleLine(host, A.Path, inputs.path);
  if (command === 'push' && !inputs.path) throw fail(host, A.Path, `Input required and not supplied: ${label(host, A.Path)} (the file or directory to push)`);

  inputs.artifactVersion = getString(host, A.Version);
  checkSingleLine(host, A.Version, inputs.artifactVersion);
  if (inputs.artifactVersion && /\s|^-/.test(inputs.artifactVersion)) throw fail(host, A.Version, `Input {} must be one version, not "${inputs.artifactVersion}"`);
  inputs.bump = parseChoice(host, A.Bump, raw(host, A.Bump), BumpParts, '');
  if (inputs.bump && inputs.artifactVersion) {
    throw fail(host, A.Bump, `Inputs "${label(host, A.Version)}" and {} cannot be used together (an exact version, or the next one)`);
  }
  if (command === 'alias' && !inputs.artifactVersion) {
    throw fail(host, A.Version, `Input required and not supplied: ${label(host, A.Version)} (the version the alias points at: a version, latest or ${PREVIOUS})`);
  }

  inputs.aliases = getList(host, A.Alias);
  for (const a of inputs.aliases) {
    if (!ALIAS.test(a)) throw fail(host, A.Alias, `Input {} must list alias names (letters, digits, ".", "_", "-"), one per line, not "${a}"`);
  }
  inputs.aliases = [...new Set(inputs.aliases)];
  if (command === 'alias' && inputs.aliases.length === 0) throw fail(host, A.Alias, `Input required and not supplied: ${label(host, A.Alias)}`);

  inputs.secondary = getString(host, A.Secondary);
  checkSingleLine(host, A.Secondary, inputs.secondary);
  const weight = raw(host, A.Weight);
  if (weight && (!/^\d+$/.test(weight) || Number(weight) > 100)) throw fail(host, A.Weight, `Input {} must be a whole number from 0 to 100 (percent of picks), not "${weight}"`);
  inputs.weight = weight ? Number(weight) : undefined;
  if (inputs.secondary && inputs.weight === undefined) throw fail(host, A.Weight, `Input {} is required when "${label(host, A.Secondary)}" is set (the percent of picks that get it)`);
  if (!inputs.secondary && inputs.weight !== undefined) throw fail(host, A.Secondary, `Input {} is required when "${label(host, A.Weight)}" is set (the version the weight sends picks to)`);
  if (inputs.artifactVersion === PREVIOUS && inputs.secondary) throw fail(host, A.Secondary, `Input {} cannot be used with ${label(host, A.Version)}: ${PREVIOUS} (a rollback restores the alias as it was)`);

  inputs.expect = getString(host, A.Expect);
  checkSingleLine(host, A.Expect, inputs.expect);

  inputs.meta = getList(host, A.Meta);
  const keys = new Set();
  for (const line of inputs.meta) {
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (!META_KEY.test(key)) throw fail(host, A.Meta, `Input {} must hold KEY=VALUE lines with keys of letters, digits, ".", "_", "-"; not "${line}"`);
    if (keys.has(key)) throw fail(host, A.Meta, `Input {} gives ${key} twice`);
    keys.add(key);
  }
  if (command === 'publish' && inputs.meta.length && !inputs.path) {
    throw fail(host, A.Meta, `Input {} needs "${label(host, A.Path)}" with ${label(host, A.Command)}: publish (metadata is recorded when the path is staged)`);
  }

  readConnection(host, inputs);
  inputs.readOnly = parseChoice(host, Inputs.ReadOnly, raw(host, Inputs.ReadOnly), ReadOnlyModes, 'auto');
  readBinary(host, inputs, A.S3podVersion);
  return inputs;
}

function versionArgs(inputs) {
  if (inputs.artifactVersion) return ['--version', inputs.artifactVersion];
  if (inputs.bump) return ['--bump', inputs.bump];
  return [];
}

/** Runs one binary command; a non-zero exit becomes an S3podError with the binary's one line. */
async function runChecked(ctx, args, what) {
  const result = await ctx.run([...args, ...globalArgs(ctx.inputs)]);
  if (result.exitCode !== ExitCodes.Success || !result.json) {
    const why = result.exitCode === ExitCodes.Conflict ? ' (conflict)' : '';
    throw new S3podError(`${what}${why}: ${errorLine(result)}`, result.exitCode, result.stderr);
  }
  return result;
}

/**
 * Points each alias at `target` (one `alias set` each, so that every move reports the version it
 * left). `version: previous` is the binary's `alias rollback`: per alias, the version it pointed at
 * before, expecting the current one, so that a rollback racing another move loses instead of undoing it.
 * Returns [{ alias, from, to, secondary, weight, changed }].
 */
async function moveAliases(ctx, name, target, { secondary, weight, expect } = {}) {
  const { host, inputs } = ctx;
  const moves = [];
  for (const alias of inputs.aliases) {
    const rollback = target === PREVIOUS;
    const args = rollback ? ['artifact', 'alias', 'rollback', name, alias] : ['artifact', 'alias', 'set', name, alias, target];
    if (secondary) args.push('--secondary', secondary, '--weight', String(weight));
    if (expect) args.push('--expect', expect);
    const result = await runChecked(ctx, args, rollback ? `Cannot roll back alias ${alias} of ${name}` : `Could not move alias ${alias} of ${name} to ${target}`);
    const r = readAlias(result.json);
    const move = { alias, from: r.previousVersion, to: r.version || target, secondary: r.secondary, weight: r.weight, changed: r.changed };
    host.info(move.changed
      ? `Alias ${alias} of ${name}: ${move.from || '(new)'} -> ${describeTarget(move)}`
      : `Alias ${alias} of ${name} already points at ${describeTarget(move)}`);
    moves.push(move);
  }
  return moves;
}

function describeTarget(move) {
  return move.secondary && move.weight ? `${move.to} (${move.secondary} for ${move.weight}% of picks)` : move.to;
}

function aliasTable(moves) {
  if (!moves.length) return '';
  const lines = ['', '| Alias | From | To |', '|---|---|---|'];
  for (const m of moves) {
    lines.push(`| ${code(m.alias)} | ${m.from ? code(m.from) : '- (new)'} | ${cell(describeTarget(m))}${m.changed ? '' : ' (unchanged)'} |`);
  }
  return `${lines.join('\n')}\n`;
}

function setOutputs(host, { version = '', digest = '', path: where = '', previousVersion = '' } = {}) {
  host.setOutput(ArtifactOutputs.Version, version || '');
  host.setOutput(ArtifactOutputs.Digest, digest || '');
  host.setOutput(ArtifactOutputs.Path, where || '');
  host.setOutput(ArtifactOutputs.PreviousVersion, previousVersion || '');
}

async function push(ctx) {
  const { host, inputs } = ctx;
  const source = path.resolve(ctx.cwd, inputs.path);
  host.info(`Pushing ${inputs.path} as the next version of ${inputs.name}`);
  const args = ['artifact', 'push', inputs.name, source, ...versionArgs(inputs)];
  for (const m of inputs.meta) args.push('--meta', m);
  const result = await runChecked(ctx, args, `Failed to push ${inputs.name}`);
  const r = readPush(result.json);
  host.info(`Pushed ${inputs.name}:${r.version} (${r.digest}, ${formatBytes(r.size)}${r.uploaded ? '' : ', content already in the store'})`);
  return { ...r, path: source, durationMs: result.durationMs };
}

async function publish(ctx) {
  const { host, inputs } = ctx;
  let source = '';
  if (inputs.path) {
    source = path.resolve(ctx.cwd, inputs.path);
    const args = ['artifact', 'stage', inputs.name, source];
    for (const m of inputs.meta) args.push('--meta', m);
    const staged = readStage((await runChecked(ctx, args, `Failed to stage ${inputs.path} as the head of ${inputs.name}`)).json);
    host.info(`Staged ${inputs.path} as the head of ${inputs.name} (${staged.digest})`);
  }
  // --if-changed: publishing the same head again (a re-run, a second job) makes no new version.
  const result = await runChecked(ctx, ['artifact', 'publish', inputs.name, '--if-changed', ...versionArgs(inputs)], `Failed to publish ${inputs.name}`);
  const r = readPush(result.json);
  host.info(r.published
    ? `Published the head of ${inputs.name} as ${inputs.name}:${r.version} (${r.digest})`
    : `The head of ${inputs.name} equals its latest version ${r.version}: nothing published`);
  return { ...r, path: source, durationMs: result.durationMs };
}

async function pull(ctx, spec) {
  const { host, inputs } = ctx;
  const args = ['artifact', 'pull', spec];
  if (inputs.path) args.push('--output', path.resolve(ctx.cwd, inputs.path));
  const result = await runChecked(ctx, args, `Failed to pull ${spec}`);
  const r = readPull(result.json);
  host.info(`Pulled ${r.name || spec}:${r.version || 'head'} to ${r.path} (${r.digest}${r.resolvedBy ? `, by ${r.resolvedBy}` : ''})`);
  return { ...r, durationMs: result.durationMs };
}

/**
 * The artifact step. Resolves { status: 'done'|'failed', command, version, digest, path,
 * previousVersion, moves }. Never throws: a bad input, a refused write (read-only) or an error of
 * the binary fails the step with one line.
 */
async function runArtifact(host) {
  let command = '';
  try {
    checkHost(host);
    maskSecrets(host);
    const inputs = readArtifactInputs(host);
    command = inputs.command;
    const ro = resolveReadOnly(inputs.readOnly, host);
    if (WRITES.has(command) && ro.readOnly) {
      const what = command === 'alias' ? `move aliases of ${inputs.name}` : `${command} ${inputs.name}`;
      const message = `Refusing to ${what}: ${ro.reason}`;
      setOutputs(host);
      host.setFailed(message);
      return { status: 'refused', command, message };
    }
    const ctx = makeContext(host, inputs, { readOnly: ro.readOnly, readOnlyReason: ro.reason });
    await attachBinary(ctx);

    let out = {};
    let moves = [];
    const rows = [['Artifact', code(command === 'pick' ? inputs.artifact : inputs.name)]];
    if (command === 'push' || command === 'publish') {
      const r = command === 'push' ? await push(ctx) : await publish(ctx);
      moves = await moveAliases(ctx, inputs.name, r.version);
      out = { version: r.version, digest: r.digest, path: r.path };
      rows.push(
        ['Version', code(r.version) + (command === 'publish' && !r.published ? ' (unchanged: no new version)' : '')],
        ['Digest', code(r.digest)],
        ['Kind', cell(r.kind)],
        ['Size', formatBytes(r.size)],
        ['Files', r.files ?? '-'],
        ['Upload', r.uploaded ? 'new content' : 'content already in the store'],
        ['Source', code(inputs.path)],
        ['Time', formatDuration(r.durationMs)],
      );
      if (r.attempts > 1) rows.push(['Attempts', `${r.attempts} (concurrent writers took earlier versions)`]);
    } else if (command === 'alias') {
      moves = await moveAliases(ctx, inputs.name, inputs.artifactVersion, { secondary: inputs.secondary, weight: inputs.weight, expect: inputs.expect });
      out = { version: moves[0]?.to };
      rows.push(['Version', code(moves[0]?.to)]);
      if (inputs.secondary) rows.push(['Canary', `${code(inputs.secondary)} for ${inputs.weight}% of picks`]);
      if (inputs.expect) rows.push(['Expected', code(inputs.expect)]);
    } else if (command === 'pull') {
      const r = await pull(ctx, inputs.name);
      out = { version: r.version, digest: r.digest, path: r.path };
      rows.push(['Spec', code(inputs.name)], ['Version', r.version ? code(r.version) : 'head'], ['Resolved by', cell(r.resolvedBy)],
        ['Digest', code(r.digest)], ['Size', formatBytes(r.size)], ['Path', code(r.path)], ['Time', formatDuration(r.durationMs)]);
    } else {
      const picked = readPick((await runChecked(ctx, ['artifact', 'pick', inputs.artifact, inputs.pickAlias], `Failed to pick from ${inputs.name}`)).json);
      host.info(`Picked ${inputs.artifact}:${picked.version} (${picked.picked} of alias ${inputs.pickAlias})`);
      out = { version: picked.version };
      rows.push(['Alias', code(inputs.pickAlias)], ['Version', `${code(picked.version)} (${cell(picked.picked)})`]);
      if (inputs.path) {
        const r = await pull(ctx, `${inputs.artifact}:${picked.version}`);
        out = { version: picked.version, digest: r.digest, path: r.path };
        rows.push(['Digest', code(r.digest)], ['Path', code(r.path)]);
      }
    }
    const previousVersion = moves.find((m) => m.changed)?.from || moves[0]?.from || '';
    setOutputs(host, { ...out, previousVersion });
    host.summary(summaryTable(`s3pod artifact ${command}`, rows) + aliasTable(moves));
    return { status: 'done', command, ...out, previousVersion, moves };
  } catch (err) {
    setOutputs(host);
    reportFailure(host, err);
    return { status: 'failed', command, message: err.message };
  }
}

module.exports = { runArtifact, readArtifactInputs, moveAliases, PREVIOUS };
