'use strict';
// The wrapper core shared with the GitHub Action (action/src/core: the flows, CommonJS, Node
// built-ins only). Required by relative path from the source tree; scripts/package.js bundles it
// into main.js and post.js with esbuild, so the .vsix holds no reference to action/.
module.exports = require('../../action/src/core');
