'use strict';
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'npm', path: 'node_modules', compressionLevel: '5' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'npm', S3POD_EXACT_MATCH: 'false', S3POD_SCOPE: 'refs/heads/main', S3POD_PATHS: '["node_modules","!node_modules/.bin"]' },
  fake: { save: { code: 0, json: { key: 'npm', scope: 'refs/heads/main', saved: true, skippedReason: null, size: 42, files: 3, uncompressedSize: 99, seconds: 0.1 } } },
});
