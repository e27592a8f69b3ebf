#!/usr/bin/env node
// Bundles the browser client with esbuild: dist/client/index.js (hush-auth/client) and axios.js (hush-auth/client/axios)
// replace tsc's per-module output with one minified ES module each (the .d.ts files tsc wrote stay), and
// dist/client/hush-client.js is the same client bundle under the name the demo loads from /assets/.
// Prints the minified and min+gzip sizes; the budget (4096 bytes min+gzip) is enforced by src/client/size.test.ts.
import { build } from 'esbuild';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const common = { bundle: true, minify: true, format: 'esm', target: 'es2020', platform: 'browser', legalComments: 'none', write: false };

async function bundle(entry) {
  const result = await build({ ...common, entryPoints: [entry] });
  return result.outputFiles[0].contents;
}

mkdirSync('dist/client', { recursive: true });
const client = await bundle('src/client/index.ts');
const axios = await bundle('src/client/axios.ts');
for (const [file, code] of [['index.js', client], ['hush-client.js', client], ['axios.js', axios]]) {
  // write-then-rename: a server (or a parallel test run) never reads a half-written bundle
  const temp = `dist/client/.${file}.${process.pid}.tmp`;
  writeFileSync(temp, code);
  renameSync(temp, `dist/client/${file}`);
  rmSync(`dist/client/${file}.map`, { force: true }); // tsc's map no longer matches the bundle
}
const size = (code) => `${code.length} B minified, ${gzipSync(code).length} B min+gzip`;
console.log(`hush-auth/client        ${size(client)} (budget 4096 B min+gzip)`);
console.log(`hush-auth/client/axios  ${size(axios)}`);
