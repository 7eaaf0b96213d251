// Just enough SigV4 to create the test bucket and list what the tests wrote (no SDK needed).
import crypto from 'node:crypto';

const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const encode = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function s3Config() {
  const e = process.env;
  if (!e.S3POD_TEST_S3_ENDPOINT || !e.S3POD_TEST_S3_KEY_ID || !e.S3POD_TEST_S3_SECRET) return null;
  return {
    endpoint: e.S3POD_TEST_S3_ENDPOINT.replace(/\/+$/, ''),
    region: e.S3POD_TEST_S3_REGION || 'us-east-1',
    keyId: e.S3POD_TEST_S3_KEY_ID,
    secret: e.S3POD_TEST_S3_SECRET,
    bucket: e.S3POD_TEST_S3_BUCKET || 's3pod-action-tests',
  };
}

async function request(cfg, method, pathname, query = {}, body = '') {
  const url = new URL(cfg.endpoint + pathname);
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256(body);
  const qs = Object.keys(query).sort().map((k) => `${encode(k)}=${encode(query[k])}`).join('&');
  const headers = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const signed = Object.keys(headers).sort();
  const canonical = [method, url.pathname.split('/').map(encode).join('/'), qs,
    signed.map((h) => `${h}:${headers[h]}\n`).join(''), signed.join(';'), payloadHash].join('\n');
  const scope = `${day}/${cfg.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${cfg.secret}`, day);
  for (const part of [cfg.region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${cfg.keyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  delete headers.host;
  const response = await fetch(`${url.origin}${url.pathname}${qs ? `?${qs}` : ''}`, { method, headers, body: body || undefined });
  return { status: response.status, text: await response.text() };
}

export async function ensureBucket(cfg) {
  const r = await request(cfg, 'PUT', `/${cfg.bucket}`);
  if (r.status !== 200 && !/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(r.text)) {
    throw new Error(`cannot create bucket ${cfg.bucket}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  }
}

/** Every object key under prefix. */
export async function listKeys(cfg, prefix) {
  const keys = [];
  let token;
  do {
    const query = { 'list-type': '2', prefix };
    if (token) query['continuation-token'] = token;
    const r = await request(cfg, 'GET', `/${cfg.bucket}`, query);
    if (r.status !== 200) throw new Error(`ListObjectsV2 failed: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    for (const m of r.text.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(m[1].replace(/&amp;/g, '&'));
    const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(r.text);
    token = next && /<IsTruncated>true<\/IsTruncated>/.test(r.text) ? next[1] : undefined;
  } while (token);
  return keys;
}
