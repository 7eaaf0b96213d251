'use strict';
// dockerImage in the post-job step: `save --key KEY --docker-image IMAGE` after a miss (the stub's store).
const { scenario } = require('./_scenario');
scenario('post', {
  inputs: { key: 'img', path: '', dockerImage: 'app:ci', compressionLevel: '7' },
  taskVariables: { RESTORE_STEP_RAN: 'true', S3POD_PRIMARY_KEY: 'img', S3POD_EXACT_MATCH: 'false', S3POD_SCOPE: 'refs/heads/main', S3POD_PATHS: '[]' },
});
