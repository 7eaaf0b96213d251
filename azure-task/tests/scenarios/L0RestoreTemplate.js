'use strict';
// An s3pod template: {hash} comes from `s3pod key --hash-from`; restore keys are used as written.
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm-{hash}', hashFiles: 'package-lock.json', restoreKeys: 'npm-', path: 'node_modules' },
  fake: { restore: miss('npm-0000') },
});
