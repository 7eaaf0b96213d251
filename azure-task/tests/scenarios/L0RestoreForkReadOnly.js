'use strict';
// A pull request from a fork (System.PullRequest.IsFork): readOnly's default, auto, records read-only.
const { scenario, miss } = require('./_scenario');
scenario('main', {
  inputs: { key: 'npm', path: 'node_modules' },
  env: { BUILD_SOURCEBRANCH: 'refs/pull/7/merge', SYSTEM_PULLREQUEST_TARGETBRANCH: 'main', SYSTEM_PULLREQUEST_ISFORK: 'True' },
  fake: { restore: miss('npm') },
});
