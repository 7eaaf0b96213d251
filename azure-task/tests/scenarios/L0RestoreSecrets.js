'use strict';
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules', accessKeyId: 'AKIDL0TEST', secretAccessKey: 'sEcReT-L0-value', endpoint: 'http://127.0.0.1:9' },
  fake: { restore: miss('npm') },
});
