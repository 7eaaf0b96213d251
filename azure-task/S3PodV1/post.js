'use strict';
// postjobexecution: save. Secrets are registered before task-lib can log any input value.
const { capture, captureConnection } = require('../shared/secrets');
const secrets = capture(process.env);
const connection = captureConnection(process.env);
const tl = require('azure-pipelines-task-lib/task');
secrets.forEach((s) => tl.setSecret(s));
require('../shared/task').save(tl, secrets, connection);
