'use strict';
const { scenario, hit } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm | "Linux" | v2', restoreKeys: 'npm | "Linux"\nnpm', path: 'node_modules', cacheHitVar: 'CACHE_HIT' },
  fake: { restore: hit('npm/Linux/v2', 'npm/Linux/v1', false) },
});
