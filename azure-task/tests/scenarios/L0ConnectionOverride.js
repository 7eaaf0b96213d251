'use strict';
// Explicit inputs win over the connection's fields, one by one.
const { scenario, miss, CONNECTION, connectionEnv } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', s3Connection: CONNECTION.id, bucket: 'input-bucket', accessKeyId: 'AKIDINPUT', secretAccessKey: 'input-SeCrEt-value' },
  env: connectionEnv(),
  fake: { restore: miss('npm') },
});
