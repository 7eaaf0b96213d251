'use strict';
// Reads a .vsix (a zip) with Node alone: entry names from the central directory, and extraction
// of stored and deflated entries, so the tests can run the task exactly as the package holds it.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

/** [{ name, method, compressedSize, localOffset }] from the central directory. */
function entries(buf) {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip file: no end of central directory');
  const list = [];
  for (let n = buf.readUInt16LE(end + 10), off = buf.readUInt32LE(end + 16); n > 0; n--) {
    const nameLength = buf.readUInt16LE(off + 28);
    list.push({
      name: buf.toString('utf8', off + 46, off + 46 + nameLength),
      method: buf.readUInt16LE(off + 10),
      compressedSize: buf.readUInt32LE(off + 20),
      localOffset: buf.readUInt32LE(off + 42),
    });
    off += 46 + nameLength + buf.readUInt16LE(off + 30) + buf.readUInt16LE(off + 32);
  }
  return list;
}

function zipEntries(file) {
  return entries(fs.readFileSync(file)).map((e) => e.name);
}

/** Writes every file entry under `dir`; refuses names that would leave it. */
function extractZip(file, dir) {
  const buf = fs.readFileSync(file);
  for (const e of entries(buf)) {
    if (e.name.endsWith('/')) continue;
    const target = path.resolve(dir, e.name);
    if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`zip entry ${e.name} leaves the target directory`);
    const start = e.localOffset + 30 + buf.readUInt16LE(e.localOffset + 26) + buf.readUInt16LE(e.localOffset + 28);
    const data = buf.subarray(start, start + e.compressedSize);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (e.method === 0) fs.writeFileSync(target, data);
    else if (e.method === 8) fs.writeFileSync(target, zlib.inflateRawSync(data));
    else throw new Error(`zip entry ${e.name}: compression method ${e.method} is not supported`);
  }
}

module.exports = { zipEntries, extractZip };
