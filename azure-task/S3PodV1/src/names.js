'use strict';
// One name table for the Azure task (task.json input names, task variables).

/** task.json input names (camelCase, as Azure tasks spell them). */
const Inputs = Object.freeze({
  Key: 'key',
  Path: 'path',
  RestoreKeys: 'restoreKeys',
  CacheHitVar: 'cacheHitVar',
  HashFiles: 'hashFiles',
  Endpoint: 'endpoint',
  Region: 'region',
  Bucket: 'bucket',
  Prefix: 'prefix',
  AccessKeyId: 'accessKeyId',
  SecretAccessKey: 'secretAccessKey',
  Scope: 'scope',
  ReadOnly: 'readOnly',
  FailOnCacheMiss: 'failOnCacheMiss',
  LookupOnly: 'lookupOnly',
  Save: 'save',
  CompressionLevel: 'compressionLevel',
  Binary: 'binary',
});

/**
 * Task variables written by execution and read by postjobexecution. Task variables belong to one
 * task instance, so two S3Pod steps in a job do not see each other's.
 * RESTORE_STEP_RAN is Cache@2's own name for the same guard.
 */
const State = Object.freeze({
  RestoreRan: 'RESTORE_STEP_RAN',
  PrimaryKey: 'S3POD_PRIMARY_KEY',
  MatchedKey: 'S3POD_MATCHED_KEY',
  ExactMatch: 'S3POD_EXACT_MATCH',
  Scope: 'S3POD_SCOPE',
  Paths: 'S3POD_PATHS',
  Binary: 'S3POD_BINARY',
});

/** Agent variables the task reads (tl.getVariable maps them to env: Build.SourceBranch -> BUILD_SOURCEBRANCH). */
const Vars = Object.freeze({
  JobStatus: 'Agent.JobStatus',
  SourceBranch: 'Build.SourceBranch',
  PullRequestTargetBranch: 'System.PullRequest.TargetBranch',
  WorkingDirectory: 'System.DefaultWorkingDirectory',
  TempDirectory: 'Agent.TempDirectory',
  ToolsDirectory: 'Agent.ToolsDirectory',
});

const SaveModes = Object.freeze(['onMiss', 'always', 'never']);

module.exports = { Inputs, State, Vars, SaveModes };
