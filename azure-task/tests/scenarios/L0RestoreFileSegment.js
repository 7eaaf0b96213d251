'use strict';
// The working directory (S3POD_L0_WORKDIR) holds yarn.lock, written by the test.
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'yarn | "Linux" | yarn.lock', path: '.yarn/cache' },
  fake: { restore: miss('') },
});
