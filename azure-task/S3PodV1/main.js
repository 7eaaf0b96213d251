'use strict';
// execution: restore. Secrets are registered before task-lib can log any input value.
const secrets = require('./src/secrets').capture(process.env);
const tl = require('azure-pipelines-task-lib/task');
secrets.forEach((s) => tl.setSecret(s));
require('./src/task').restore(tl, secrets);
