'use strict';
const { scenario, hit } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', lookupOnly: 'true', cacheHitVar: 'CACHE_HIT' },
  fake: { restore: { ...hit('npm', 'npm', true), json: { ...hit('npm', 'npm', true).json, restored: false, lookupOnly: true } } },
});
