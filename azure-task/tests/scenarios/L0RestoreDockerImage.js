'use strict';
// dockerImage: `docker download KEY IMAGE`; cacheSize comes from the transfer result's size.
const { scenario } = require('./_scenario');
const transfer = { key: 'img', action: 'docker-download', size: 4242, seconds: 0.2, sha256: null, source: 'cache', path: null, skipped: false, files: null, uncompressedSize: null };
scenario('main', {
  inputs: { key: 'img', path: '', dockerImage: 'app:ci', cacheHitVar: 'IMG_HIT' },
  fake: { docker_download: { code: 0, json: transfer } },
});
