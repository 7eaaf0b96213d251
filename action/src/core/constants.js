'use strict';

/** Input names, as the GitHub Action spells them (a host maps its own names onto these). */
const Inputs = Object.freeze({
  Key: 'key',
  HashFiles: 'hash-files',
  Path: 'path',
  RestoreKeys: 'restore-keys',
  Endpoint: 'endpoint',
  Region: 'region',
  Bucket: 'bucket',
  Prefix: 'prefix',
  AccessKeyId: 'access-key-id',
  SecretAccessKey: 'secret-access-key',
  Scope: 'scope',
  ReadOnly: 'read-only',
  FailOnCacheMiss: 'fail-on-cache-miss',
  FailOnError: 'fail-on-error',
  LookupOnly: 'lookup-only',
  Save: 'save',
  CompressionLevel: 'compression-level',
  Update: 'update',
  DockerImage: 'docker-image',
  Binary: 'binary',
  Version: 'version',
  JobStatus: 'job-status',
});

const Outputs = Object.freeze({
  CacheHit: 'cache-hit',
  PrimaryKey: 'primary-key',
  MatchedKey: 'matched-key',
  CacheSize: 'cache-size',
});

/** State handed from the restore step to the save step. */
const State = Object.freeze({
  RestoreRan: 'S3POD_RESTORE_RAN',
  PrimaryKey: 'S3POD_PRIMARY_KEY',
  MatchedKey: 'S3POD_MATCHED_KEY',
  ExactMatch: 'S3POD_EXACT_MATCH',
  Scope: 'S3POD_SCOPE',
  Paths: 'S3POD_PATHS',
  ReadOnly: 'S3POD_READ_ONLY',
  ReadOnlyReason: 'S3POD_READ_ONLY_REASON',
  Binary: 'S3POD_BINARY',
});

/** Inputs of the artifact sub-action (artifact/action.yml; Azure: S3PodArtifact@1). */
const ArtifactInputs = Object.freeze({
  Command: 'command',
  Name: 'name',
  Path: 'path',
  Version: 'version',
  Bump: 'bump',
  Alias: 'alias',
  Secondary: 'secondary',
  Weight: 'weight',
  Expect: 'expect',
  Meta: 'meta',
  // `version` is the artifact's version here, so the s3pod version to run has its own name.
  S3podVersion: 's3pod-version',
});

const ArtifactOutputs = Object.freeze({
  Version: 'version',
  Digest: 'digest',
  Path: 'path',
  PreviousVersion: 'previous-version',
});

/** Inputs of the assets sub-action (assets/action.yml; Azure: S3PodAssets@1). */
const AssetInputs = Object.freeze({
  Manifest: 'manifest',
  AssetsDir: 'assets-dir',
  Check: 'check',
  S3podVersion: 's3pod-version',
});

const AssetOutputs = Object.freeze({ AssetsDir: 'assets-dir' });

/** The variable that tells later steps (and s3pod itself) where the assets are. */
const ASSETS_DIR_VARIABLE = 'S3POD_ASSETS_DIR';

const ArtifactCommands = Object.freeze(['push', 'pull', 'publish', 'alias', 'pick']);
const BumpParts = Object.freeze(['major', 'minor', 'patch']);

const ScopeModes = Object.freeze(['ref', 'repo', 'none']);
const ReadOnlyModes = Object.freeze(['auto', 'true', 'false']);
const SaveModes = Object.freeze(['on-miss', 'always', 'never']);

/** The binary's exit codes (see the binary's contract). */
const ExitCodes = Object.freeze({
  Success: 0,
  NotFound: 1,
  OperationalError: 2,
  CacheMiss: 3,
  Conflict: 4,
  Integrity: 5,
  Offline: 6,
});

module.exports = {
  Inputs, Outputs, State, ScopeModes, ReadOnlyModes, SaveModes, ExitCodes,
  ArtifactInputs, ArtifactOutputs, AssetInputs, AssetOutputs, ASSETS_DIR_VARIABLE, ArtifactCommands, BumpParts,
};
