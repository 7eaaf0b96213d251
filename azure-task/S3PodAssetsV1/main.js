'use strict';
// S3PodAssets@1: the manifest's assets into a cached assets directory. Secrets are registered before task-lib can log any input value.
const secrets = require('../S3PodV1/src/secrets').capture(process.env);
const tl = require('azure-pipelines-task-lib/task');
secrets.forEach((s) => tl.setSecret(s));
require('../S3PodV1/src/task').assets(tl, secrets);
