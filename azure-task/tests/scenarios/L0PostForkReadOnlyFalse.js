'use strict';
// readOnly: false lets a fork's pull request save (the owner decided its credentials allow it).
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'npm', path: 'node_modules', readOnly: 'false' },
  env: { BUILD_SOURCEBRANCH: 'refs/pull/7/merge', SYSTEM_PULLREQUEST_ISFORK: 'True' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'npm', S3POD_EXACT_MATCH: 'false', S3POD_SCOPE: 'refs/pull/7/merge', S3POD_PATHS: '["node_modules"]', S3POD_READ_ONLY: 'false' },
  fake: { save: { code: 0, json: { key: 'npm', scope: 'refs/pull/7/merge', saved: true, skippedReason: null, size: 1, files: 1, uncompressedSize: 1, seconds: 0.1 } } },
});
