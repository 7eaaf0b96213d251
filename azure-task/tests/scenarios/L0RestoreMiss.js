'use strict';
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm | "Linux"', path: 'node_modules', cacheHitVar: 'CACHE_HIT' },
  fake: { restore: miss('npm/Linux') },
});
