'use strict';
// S3PodArtifact@1 with a service connection and system.debug on.
const { scenario, CONNECTION, connectionEnv } = require('./_scenario');
scenario('main', {
  task: 'S3PodArtifactV1',
  inputs: { command: 'pull', name: 'app', s3Connection: CONNECTION.id, versionVar: 'APP_VERSION' },
  env: { ...connectionEnv(), SYSTEM_DEBUG: 'true' },
  fake: { artifact: { code: 0, json: { name: 'app', version: '3', resolvedBy: 'latest', kind: 'file', path: '/tmp/app', digest: 'sha256:' + 'a'.repeat(64), size: 1, files: 1 } } },
});
