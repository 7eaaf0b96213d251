'use strict';
// dockerImage: `restore --key KEY --docker-image IMAGE` with restore keys and scopes, as for paths;
// cacheSize comes from the restore result's size.
const { scenario } = require('./_scenario');
const restored = {
  primaryKey: 'img', matchedKey: 'img', exactMatch: true, matchedScope: 'refs/heads/main', size: 4242, restored: true, lookupOnly: false, files: null,
  seconds: 0.2, miss: null, downloadedBytes: 4242, chunkCacheBytes: 0, image: 'app:ci', imageId: `sha256:${'a'.repeat(64)}`,
};
scenario('main', {
  inputs: { key: 'img', path: '', dockerImage: 'app:ci', restoreKeys: 'img-', cacheHitVar: 'IMG_HIT' },
  fake: { restore: { code: 0, json: restored } },
});
