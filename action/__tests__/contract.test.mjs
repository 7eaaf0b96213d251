// The binary's JSON contract, parsed from real output of every command the action runs (see
// contract.cjs), against the real s3pod with Ceph RGW and dockerd, and against the stub binary the
// other tests use (it must follow the same contract).
import { describe, test } from 'node:test';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { stubBinary, tempDir } from './harness.mjs';
import { s3Config, ensureBucket } from './s3.mjs';

const require = createRequire(import.meta.url);
const core = require('../src/core/index.js');
const { contractCases } = require('./contract.cjs');

const binary = process.env.S3POD_TEST_BINARY;
const s3 = s3Config();
const skip = !binary
  ? 'S3POD_TEST_BINARY is not set (path of the native s3pod binary)'
  : !fs.existsSync(binary)
    ? `S3POD_TEST_BINARY=${binary} does not exist`
    : !s3 ? 'S3POD_TEST_S3_ENDPOINT / S3POD_TEST_S3_KEY_ID / S3POD_TEST_S3_SECRET are not set (a real S3 server)' : false;

describe('JSON contract: real s3pod', () => {
  for (const c of contractCases({ core, binary, skip, s3, ensureBucket })) test(c.name, { skip: c.skip }, c.run);
});

describe('JSON contract: stub binary', () => {
  const cases = contractCases({ core, binary: stubBinary, storeDir: tempDir('s3pod-contract-stub-'), realDocker: false, failEnv: { S3POD_STUB_FAIL: 'restore' }, artifacts: false });
  for (const c of cases) test(c.name, { skip: c.skip }, c.run);
});
