'use strict';
// S3PodAssets@1 with a service connection and system.debug on (the stub syncs an empty manifest).
const path = require('path');
const fs = require('fs');
const { scenario, CONNECTION, connectionEnv } = require('./_scenario');
const manifest = path.join(process.env.S3POD_L0_WORKDIR, 's3pod.assets.json');
fs.writeFileSync(manifest, '{"assets": {}}\n');
scenario('main', {
  task: 'S3PodAssetsV1',
  inputs: { manifest, assetsDir: path.join(process.env.S3POD_L0_WORKDIR, 'assets'), s3Connection: CONNECTION.id },
  env: { ...connectionEnv(), SYSTEM_DEBUG: 'true' },
});
