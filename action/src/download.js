// Release downloads through the toolkit's HTTP client, which honours HTTPS_PROXY / HTTP_PROXY and
// NO_PROXY as self-hosted runners set them (Node's fetch ignores all three). The core takes it as
// toolOptions().download; the Azure task keeps the core's fetch-based default.
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { HttpClient } from '@actions/http-client';

/** Writes url's body to dest (mode 0755); follows redirects; throws Error with a one-line message. */
export async function proxyAwareDownload(url, dest, { timeoutMs = 300000, token } = {}) {
  const client = new HttpClient('s3pod-action', undefined, { allowRedirects: true, maxRedirects: 10, socketTimeout: timeoutMs });
  const headers = { accept: 'application/octet-stream' };
  if (token) headers.authorization = `token ${token}`;
  try {
    const response = await client.get(url, headers);
    const status = response.message.statusCode;
    if (status !== 200) {
      response.message.resume();
      throw new Error(`HTTP ${status} ${response.message.statusMessage || ''}`.trim());
    }
    await pipeline(response.message, fs.createWriteStream(dest, { mode: 0o755 }));
  } finally {
    client.dispose();
  }
}
