'use strict';
const { scenario } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', cacheHitVar: 'CACHE_HIT' },
  fake: { restore: { code: 2, stderr: 'error: cannot reach http://127.0.0.1:1 (connection refused)' } },
});
