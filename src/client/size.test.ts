import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const BUDGET = 4096;

async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    legalComments: 'none',
    write: false,
  });
  return result.outputFiles[0]!.contents;
}

it(`hush-auth/client stays within ${BUDGET} bytes minified + gzipped`, async () => {
  const size = gzipSync(await bundle('src/client/index.ts')).length;
  assert.ok(size <= BUDGET, `${size} B min+gzip`);
});

it('hush-auth/client bundles without Node built-ins or dependencies', async () => {
  const code = new TextDecoder().decode(await bundle('src/client/index.ts'));
  assert.doesNotMatch(code, /\bimport\s*[^;]*\bfrom\s*["']|\brequire\(|\bimport\(/, 'a self-contained module');
  assert.doesNotMatch(code, /node:|process\.|Buffer\b/);
});

it('hush-auth/client/axios needs no axios at runtime', async () => {
  const code = new TextDecoder().decode(await bundle('src/client/axios.ts'));
  assert.doesNotMatch(code, /\bfrom\s*["']|\brequire\(|\bimport\(/);
});
