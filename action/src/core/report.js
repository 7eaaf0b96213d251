'use strict';

const { InputError, BinaryError, S3podError } = require('./errors');

/**
 * One ::error:: line for a failure, never a stack trace. Only an unexpected error (a bug) leaves
 * its stack in the debug log, which the runner shows only with step debug logging on.
 */
function reportFailure(host, err) {
  const message = err && err.message ? err.message : String(err);
  const expected = err instanceof InputError || err instanceof BinaryError || err instanceof S3podError;
  if (!expected && err && err.stack) host.debug(err.stack);
  host.setFailed(message.split(/\r?\n/)[0]);
}

module.exports = { reportFailure };
