'use strict';
// No binary input, none on PATH, and an agent (32-bit ARM) with no s3pod build.
const path = require('path');
const { scenario } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', binary: '' },
  env: { AGENT_OS: 'Linux', AGENT_OSARCHITECTURE: 'ARM', PATH: path.dirname(process.execPath) },
});
