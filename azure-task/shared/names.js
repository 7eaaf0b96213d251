'use strict';
// The Azure task's names for the core's inputs, outputs and state, and the agent variables it reads.

/** Core input name (action.yml's spelling) -> task.json input name. Core inputs not listed read as ''. */
const InputNames = Object.freeze({
  key: 'key',
  'hash-files': 'hashFiles',
  path: 'path',
  'restore-keys': 'restoreKeys',
  endpoint: 'endpoint',
  region: 'region',
  bucket: 'bucket',
  prefix: 'prefix',
  'access-key-id': 'accessKeyId',
  'secret-access-key': 'secretAccessKey',
  scope: 'scope',
  'read-only': 'readOnly',
  'fail-on-cache-miss': 'failOnCacheMiss',
  'lookup-only': 'lookupOnly',
  save: 'save',
  'compression-level': 'compressionLevel',
  update: 'update',
  'docker-image': 'dockerImage',
  binary: 'binary',
});

/** task.json inputs the core does not know. */
const TaskInputs = Object.freeze({ CacheHitVar: 'cacheHitVar' });

/** Choice values task.json spells differently from the core. */
const ValueNames = Object.freeze({ save: Object.freeze({ 'on-miss': 'onMiss' }) });

/** Core output name -> task.json output variable (read as $(<step name>.cacheHit) and so on). */
const OutputNames = Object.freeze({
  'cache-hit': 'cacheHit',
  'primary-key': 'primaryKey',
  'matched-key': 'matchedKey',
  'cache-size': 'cacheSize',
});

/**
 * Core state name -> task variable, where they differ. Task variables belong to one task
 * instance, so two S3Pod steps in a job do not see each other's. RESTORE_STEP_RAN is Cache@2's
 * own name for the same guard.
 */
const StateNames = Object.freeze({ S3POD_RESTORE_RAN: 'RESTORE_STEP_RAN' });

/** S3PodArtifact@1: core input name -> task.json input name. */
const ArtifactInputNames = Object.freeze({
  command: 'command',
  name: 'name',
  path: 'path',
  version: 'version',
  bump: 'bump',
  alias: 'alias',
  secondary: 'secondary',
  weight: 'weight',
  expect: 'expect',
  meta: 'meta',
  endpoint: 'endpoint',
  region: 'region',
  bucket: 'bucket',
  prefix: 'prefix',
  'access-key-id': 'accessKeyId',
  'secret-access-key': 'secretAccessKey',
  'read-only': 'readOnly',
  binary: 'binary',
});

/** S3PodArtifact@1 inputs the core does not know: variables to set to the version and digest. */
const ArtifactTaskInputs = Object.freeze({ VersionVar: 'versionVar', DigestVar: 'digestVar' });

const ArtifactOutputNames = Object.freeze({
  version: 'version',
  digest: 'digest',
  path: 'path',
  'previous-version': 'previousVersion',
});

/** S3PodAssets@1: core input name -> task.json input name. */
const AssetInputNames = Object.freeze({
  manifest: 'manifest',
  'assets-dir': 'assetsDir',
  check: 'check',
  endpoint: 'endpoint',
  region: 'region',
  bucket: 'bucket',
  prefix: 'prefix',
  'access-key-id': 'accessKeyId',
  'secret-access-key': 'secretAccessKey',
  'read-only': 'readOnly',
  binary: 'binary',
});

const AssetOutputNames = Object.freeze({ 'assets-dir': 'assetsDir' });

/** Agent variables the task reads (tl.getVariable maps them to env: Build.SourceBranch -> BUILD_SOURCEBRANCH). */
const Vars = Object.freeze({
  JobStatus: 'Agent.JobStatus',
  SourceBranch: 'Build.SourceBranch',
  PullRequestTargetBranch: 'System.PullRequest.TargetBranch',
  PullRequestIsFork: 'System.PullRequest.IsFork',
  WorkingDirectory: 'System.DefaultWorkingDirectory',
  TempDirectory: 'Agent.TempDirectory',
  ToolsDirectory: 'Agent.ToolsDirectory',
  AgentOS: 'Agent.OS',
  AgentArch: 'Agent.OSArchitecture',
});

module.exports = {
  InputNames, TaskInputs, ValueNames, OutputNames, StateNames, Vars,
  ArtifactInputNames, ArtifactTaskInputs, ArtifactOutputNames, AssetInputNames, AssetOutputNames,
};
