'use strict';
const { scenario } = require('./_scenario');
scenario('main', { inputs: { key: 'npm', path: 'node_modules', cacheHitVar: 'bad name;x' } });
