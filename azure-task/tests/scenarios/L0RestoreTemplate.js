'use strict';
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm-{hash}', hashFiles: 'package-lock.json', restoreKeys: 'npm-', path: 'node_modules' },
  fake: { restore: miss('npm-abc123def4567890') },
});
