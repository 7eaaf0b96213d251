'use strict';
// Just enough SigV4 (Node built-ins) to create the test bucket and list what a test wrote.
const crypto = require('crypto');

const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

/** The harness's S3 server, or null when it provides none. */
function s3Config(env = process.env) {
  if (!env.S3POD_TEST_S3_ENDPOINT || !env.S3POD_TEST_S3_KEY_ID || !env.S3POD_TEST_S3_SECRET) return null;
  return {
    endpoint: env.S3POD_TEST_S3_ENDPOINT.replace(/\/+$/, ''),
    region: env.S3POD_TEST_S3_REGION || 'us-east-1',
    keyId: env.S3POD_TEST_S3_KEY_ID,
    secret: env.S3POD_TEST_S3_SECRET,
    bucket: env.S3POD_TEST_S3_BUCKET || 's3pod-azure-task-tests',
  };
}

async function request(cfg, method, pathname, query = {}) {
  const url = new URL(cfg.endpoint + pathname);
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256('');
  const qs = Object.keys(query).sort().map((k) => `${encode(k)}=${encode(query[k])}`).join('&');
  const headers = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const signed = Object.keys(headers).sort();
  const canonical = [
    method,
    url.pathname.split('/').map(encode).join('/'),
    qs,
    signed.map((h) => `${h}:${headers[h]}\n`).join(''),
    signed.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${day}/${cfg.region}/s3/aws4_request`;
  let key = hmac(`AWS4${cfg.secret}`, day);
  for (const part of [cfg.region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = crypto
    .createHmac('sha256', key)
    .update(['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n'))
    .digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${cfg.keyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  delete headers.host;
  const res = await fetch(`${url.origin}${url.pathname}${qs ? `?${qs}` : ''}`, { method, headers });
  return { status: res.status, text: await res.text() };
}

async function ensureBucket(cfg) {
  const r = await request(cfg, 'PUT', `/${cfg.bucket}`);
  if (r.status !== 200 && !/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(r.text)) {
    throw new Error(`cannot create bucket ${cfg.bucket}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  }
}

/** [{key, etag, lastModified, size}] under a prefix, every page. */
async function listObjects(cfg, prefix) {
  const out = [];
  let token;
  do {
    const q = { 'list-type': '2', prefix };
    if (token) q['continuation-token'] = token;
    const r = await request(cfg, 'GET', `/${cfg.bucket}`, q);
    if (r.status !== 200) throw new Error(`list ${prefix}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    for (const m of r.text.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const field = (n) => (new RegExp(`<${n}>([\\s\\S]*?)</${n}>`).exec(m[1]) || [])[1];
      out.push({ key: field('Key'), etag: field('ETag'), lastModified: field('LastModified'), size: Number(field('Size')) });
    }
    token = /<IsTruncated>true<\/IsTruncated>/.test(r.text) ? (/<NextContinuationToken>([^<]+)</.exec(r.text) || [])[1] : undefined;
  } while (token);
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

module.exports = { s3Config, ensureBucket, listObjects };
