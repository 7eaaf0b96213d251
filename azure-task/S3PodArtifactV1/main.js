'use strict';
// S3PodArtifact@1: one s3pod artifact command. Secrets are registered before task-lib can log any input value.
const secrets = require('../S3PodV1/src/secrets').capture(process.env);
const tl = require('azure-pipelines-task-lib/task');
secrets.forEach((s) => tl.setSecret(s));
require('../S3PodV1/src/task').artifact(tl, secrets);
