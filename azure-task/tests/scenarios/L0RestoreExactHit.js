'use strict';
const { scenario, hit } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm | "Linux"', path: 'node_modules', cacheHitVar: 'CACHE_HIT' },
  fake: { restore: hit('npm/Linux', 'npm/Linux', true) },
});
