'use strict';

function formatBytes(bytes) {
  if (bytes == null || !Number.isFinite(Number(bytes))) return '-';
  const n = Number(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

function formatDuration(ms) {
  if (ms == null) return '-';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function formatThroughput(bytes, ms) {
  if (!bytes || !ms) return '-';
  return `${formatBytes((Number(bytes) * 1000) / ms)}/s`;
}

function cell(value) {
  if (value == null || value === '') return '-';
  return String(value).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(value) {
  return value ? `\`${cell(value)}\`` : '-';
}

/** A Markdown job summary: a heading and a two-column table of [label, value] rows. */
function summaryTable(title, rows) {
  const lines = [`### ${title}`, '', '| | |', '|---|---|'];
  for (const [label, value] of rows) lines.push(`| ${label} | ${value == null || value === '' ? '-' : value} |`);
  return `${lines.join('\n')}\n`;
}

module.exports = { formatBytes, formatDuration, formatThroughput, summaryTable, code, cell };
