'use strict';
// S3PodArtifact@1: one s3pod artifact command. Secrets are registered before task-lib can log any input value.
const { capture, captureConnection } = require('../shared/secrets');
const secrets = capture(process.env);
const connection = captureConnection(process.env);
const tl = require('azure-pipelines-task-lib/task');
secrets.forEach((s) => tl.setSecret(s));
require('../shared/task').artifact(tl, secrets, connection);
