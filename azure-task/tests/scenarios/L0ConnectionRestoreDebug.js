'use strict';
// S3Pod@1 with a service connection and system.debug on: every input and endpoint read is logged.
const { scenario, miss, CONNECTION, connectionEnv } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', s3Connection: CONNECTION.id },
  env: { ...connectionEnv(), SYSTEM_DEBUG: 'true' },
  fake: { restore: miss('npm') },
});
