'use strict';
// The post-job step of a fork's pull request saves nothing, even with save: always.
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'npm', path: 'node_modules', save: 'always' },
  env: { BUILD_SOURCEBRANCH: 'refs/pull/7/merge', SYSTEM_PULLREQUEST_ISFORK: 'True' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'npm', S3POD_EXACT_MATCH: 'false', S3POD_SCOPE: 'refs/pull/7/merge', S3POD_PATHS: '["node_modules"]', S3POD_READ_ONLY: 'true', S3POD_READ_ONLY_REASON: 'pull requests from forks are read-only (readOnly: auto)' },
});
