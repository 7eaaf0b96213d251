'use strict';
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', scope: 'none' },
  fake: { restore: miss('npm') },
});
