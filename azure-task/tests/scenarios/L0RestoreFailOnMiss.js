'use strict';
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', failOnCacheMiss: 'true', cacheHitVar: 'CACHE_HIT' },
  fake: { restore: miss('npm') },
});
