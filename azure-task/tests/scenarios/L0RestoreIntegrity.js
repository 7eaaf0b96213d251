'use strict';
const { scenario } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules' },
  fake: { restore: { code: 5, stderr: 'error: digest mismatch for npm' } },
});
