'use strict';
const { scenario } = require('./_scenario');
scenario('main', { inputs: { key: 'npm | no-such-dir/*.lock', path: 'node_modules' } });
