// Runs @20minutes/s3rver in the foreground on 127.0.0.1 (tests/servers/s3rver.sh backgrounds it).
// env: S3RVER_MODULE  path of the installed package directory (required)
//      S3RVER_PORT    default 4600
//      S3RVER_DIR     data directory (created if missing)
// The server accepts the fixed credentials S3RVER / S3RVER (and anonymous requests).
// Prints one "ready" line on stdout once it listens; exits cleanly on SIGTERM / SIGINT.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const moduleDir = process.env.S3RVER_MODULE;
if (!moduleDir) {
  console.error('s3rver-start: S3RVER_MODULE is not set');
  process.exit(2);
}
const port = Number.parseInt(process.env.S3RVER_PORT ?? '4600', 10);
const directory = process.env.S3RVER_DIR ?? '/tmp/s3pod-s3rver/data';
mkdirSync(directory, { recursive: true });

const S3rver = createRequire(import.meta.url)(moduleDir);
const server = new S3rver({ address: '127.0.0.1', port, directory, silent: true });

let closing = false;
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  try {
    await server.close();
  } catch (err) {
    console.error(`s3rver-start: close after ${signal} failed: ${err?.message ?? err}`);
  }
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

try {
  const { address, port: bound } = await server.run();
  console.log(`s3rver ready on http://${address}:${bound} data=${directory} pid=${process.pid}`);
} catch (err) {
  console.error(`s3rver-start: cannot listen on 127.0.0.1:${port}: ${err?.message ?? err}`);
  process.exit(1);
}
