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
});

module.exports = { Inputs, Outputs, State, ScopeModes, ReadOnlyModes, SaveModes, ExitCodes };
