'use strict';
// The key's file changed during the job: Cache@2 warns; s3pod saves under the restore's key.
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'yarn | yarn.lock', path: 'node_modules' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'yarn/0000', S3POD_EXACT_MATCH: 'false', S3POD_PATHS: '["node_modules"]' },
  fake: { save: { code: 0, json: { key: 'yarn/0000', scope: null, saved: true, skippedReason: null, size: 1, files: 1, uncompressedSize: 1, seconds: 0.1 } } },
});
