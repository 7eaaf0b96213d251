'use strict';

/** A bad or missing input. `input` names it; the message is one line meant for the user. */
class InputError extends Error {
  constructor(input, message) {
    super(message);
    this.name = 'InputError';
    this.input = input;
  }
}

/** The s3pod binary could not be found, downloaded or verified. */
class BinaryError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BinaryError';
  }
}

/** The binary exited with a code the caller did not expect. */
class S3podError extends Error {
  constructor(message, exitCode, stderr) {
    super(message);
    this.name = 'S3podError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

module.exports = { InputError, BinaryError, S3podError };
