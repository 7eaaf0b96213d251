'use strict';
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'npm', path: 'node_modules', save: 'always' },
  env: { AGENT_JOBSTATUS: 'Failed' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'npm', S3POD_EXACT_MATCH: 'false', S3POD_PATHS: '["node_modules"]' },
  fake: { save: { code: 0, json: { key: 'npm', scope: null, saved: true, skippedReason: null, size: 1, files: 1, uncompressedSize: 1, seconds: 0.1 } } },
});
