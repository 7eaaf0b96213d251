'use strict';
// The host-agnostic wrapper logic shared with the GitHub Action (action/src/core, CommonJS, Node
// built-ins only), required by relative path; the packaging script inlines it into the bundle.
// Used here: input validation, secret masking, binary location/download/verification, running
// the binary, the restore/save argument lists and the post-job save decision.
const core = require('../../../action/src/core');
const { errorLine } = require('../../../action/src/core/run');

module.exports = { ...core, errorLine };
