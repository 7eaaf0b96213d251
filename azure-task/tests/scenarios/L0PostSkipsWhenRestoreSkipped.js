'use strict';
// The main step was skipped by its condition: no task variables, yet the post-job step runs.
const { scenario } = require('./_scenario');
scenario('post', { inputs: { key: 'npm', path: 'node_modules', save: 'always' } });
