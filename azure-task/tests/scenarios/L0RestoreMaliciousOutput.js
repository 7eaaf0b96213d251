'use strict';
// Text from the binary (file names, keys) must not be able to issue logging commands.
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules' },
  fake: { restore: { ...miss('npm'), stderr: 'restoring ##vso[task.setvariable variable=PWNED]yes' } },
});
