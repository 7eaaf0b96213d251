'use strict';
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'npm', path: 'node_modules' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'npm', S3POD_EXACT_MATCH: 'false', S3POD_PATHS: '["node_modules"]' },
  fake: { save: { code: 0, json: { key: 'npm', scope: null, saved: false, skippedReason: 'exists', size: 0, files: 0, uncompressedSize: 0, seconds: 0.1 } } },
});
