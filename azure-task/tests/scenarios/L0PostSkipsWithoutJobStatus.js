'use strict';
// Agent.JobStatus missing or unrecognised: save: onMiss does not treat it as success.
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'npm', path: 'node_modules' },
  env: { AGENT_JOBSTATUS: null },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'npm', S3POD_EXACT_MATCH: 'false', S3POD_PATHS: '["node_modules"]' },
});
