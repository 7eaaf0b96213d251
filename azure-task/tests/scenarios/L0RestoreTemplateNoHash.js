'use strict';
// A template without {hash}: the binary puts -<hash> before the extension (one rule for both hosts).
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'deps.v1', hashFiles: 'package-lock.json', path: 'node_modules' },
  fake: { restore: miss('x') },
});
