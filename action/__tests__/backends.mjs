// The two binaries the runner-level tests run against: the real native s3pod with a real S3
// server (S3POD_TEST_BINARY + S3POD_TEST_S3_*), and a stub over a directory store for the
// wrapper's own logic. Each test gets its own prefix.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { stubBinary, tempDir } from './harness.mjs';
import { s3Config, ensureBucket, listKeys } from './s3.mjs';

function uniquePrefix() {
  return `action-tests/${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
}

export function realBackend() {
  const binary = process.env.S3POD_TEST_BINARY;
  const cfg = s3Config();
  let skip = false;
  if (!binary) skip = 'S3POD_TEST_BINARY is not set (path of the native s3pod binary)';
  else if (!fs.existsSync(binary)) skip = `S3POD_TEST_BINARY=${binary} does not exist`;
  else if (!cfg) skip = 'S3POD_TEST_S3_ENDPOINT / S3POD_TEST_S3_KEY_ID / S3POD_TEST_S3_SECRET are not set (a real S3 server)';
  let bucketReady;
  return {
    name: 'real s3pod + S3',
    skip,
    real: true,
    async newPrefix() {
      bucketReady ||= ensureBucket(cfg);
      await bucketReady;
      return uniquePrefix();
    },
    inputs(prefix) {
      return {
        binary,
        endpoint: cfg.endpoint,
        region: cfg.region,
        bucket: cfg.bucket,
        prefix,
        'access-key-id': cfg.keyId,
        'secret-access-key': cfg.secret,
      };
    },
    env() {
      return {};
    },
    secrets: cfg ? [cfg.secret, cfg.keyId] : [],
    async objects(prefix) {
      return listKeys(cfg, `${prefix}/`);
    },
  };
}

export function stubBackend() {
  const store = tempDir('s3pod-stub-store-');
  const log = path.join(store, 'invocations.jsonl');
  const keyId = 'AKIASTUBKEYID0000001';
  const secret = 'stub/Secret+Access/Key0123456789abcdefghij';
  return {
    name: 'stub binary',
    skip: false,
    real: false,
    async newPrefix() {
      return uniquePrefix();
    },
    inputs(prefix) {
      return {
        binary: stubBinary,
        endpoint: 'https://s3.example.test',
        region: 'us-east-1',
        bucket: 'stub-bucket',
        prefix,
        'access-key-id': keyId,
        'secret-access-key': secret,
      };
    },
    env() {
      return { S3POD_STORE: store, S3POD_STUB_LOG: log };
    },
    secrets: [secret, keyId],
    async objects(prefix) {
      const dir = path.join(store, encodeURIComponent(prefix));
      if (!fs.existsSync(dir)) return [];
      return fs.readdirSync(dir).flatMap((s) => fs.readdirSync(path.join(dir, s)).map((k) => `${s}/${k}`));
    },
    invocations() {
      if (!fs.existsSync(log)) return [];
      return fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
  };
}
