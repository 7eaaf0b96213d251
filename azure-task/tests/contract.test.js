'use strict';
// The binary's JSON contract, parsed from real output of every command the task runs (the shared
// core's commands: key, save, restore, docker upload | exists | download, and an error), with the
// core exactly as the task loads it. The cases are shared with the action's suite
// (action/__tests__/contract.cjs); Ceph RGW and dockerd come from the harness.
const { test } = require('node:test');
const fs = require('fs');
const core = require('../shared/core');
const { contractCases } = require('../../action/__tests__/contract.cjs');
const { s3Config, ensureBucket } = require('./e2e/s3');

const binary = process.env.S3POD_TEST_BINARY || '';
const s3 = s3Config();
const skip = !binary
  ? 'S3POD_TEST_BINARY is not set (build the binary with ./publish-aot.sh; .ci/run sets it)'
  : !fs.existsSync(binary)
    ? `S3POD_TEST_BINARY=${binary} does not exist`
    : !s3 ? 'S3POD_TEST_S3_ENDPOINT/KEY_ID/SECRET are not set (start tests/servers/ceph-rgw.sh)' : false;

for (const c of contractCases({ core, binary, skip, s3, ensureBucket })) test(`JSON contract: ${c.name}`, { skip: c.skip }, c.run);
