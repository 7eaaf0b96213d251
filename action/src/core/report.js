'use strict';

const { InputError, BinaryError, S3podError } = require('./errors');

/**
 * One line for a failure, never a stack trace: the step fails with it, or with { warn: true } it
 * is a warning; `context` goes in front ("Failed to save cache: ..."). Only an unexpected error
 * (a bug) leaves its stack in the debug log, which the CI shows only with debug logging on.
 */
function reportFailure(host, err, { warn = false, context = '' } = {}) {
  const line = (err && err.message ? err.message : String(err)).split(/\r?\n/)[0];
  const message = context ? `${context}: ${line}` : line;
  const expected = err instanceof InputError || err instanceof BinaryError || err instanceof S3podError;
  if (!expected && err && err.stack) host.debug(err.stack);
  if (warn) host.warning(message);
  else host.setFailed(message);
}

module.exports = { reportFailure };
