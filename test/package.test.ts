// What `npm install hush-auth` gets: the tarball's contents, the Node versions it claims, and README examples
// that compile in an adopter's strict project. Uses dist/ as `npm run build` left it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string }; license: string };
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** semver ships with Fastify (a runtime dependency); it has no types installed here. */
const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
  gte(a: string, b: string): boolean;
};

/** The files `npm pack` would put in the tarball (scripts skipped: dist/ is already built). */
function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  return new Set(report!.files.map((f) => f.path));
}

interface Installed {
  name: string;
  dir: string;
  type?: string;
  engines?: { node?: string };
  exports?: unknown;
  dependencies?: Record<string, string>;
}

/** Every package installed for hush's runtime dependencies (devDependencies left out). */
function runtimePackages(): Installed[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const dirs = [...new Set(out.split('\n').filter(Boolean).slice(1))];
  return dirs.map((dir) => ({ ...(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Installed), dir }));
}

/** An ES module with no CommonJS entry: `require()` of it needs Node's require(esm). */
function esmOnly(p: Installed): boolean {
  return p.type === 'module' && !JSON.stringify(p.exports ?? {}).includes('"require"');
}

describe('the npm package', () => {
  it('ships an MIT LICENSE naming the hush authors', () => {
    const files = packedFiles();
    assert.ok(files.has('LICENSE'), 'LICENSE is in the tarball');
    assert.equal(pkg.license, 'MIT');
    const text = readFileSync(join(root, 'LICENSE'), 'utf8');
    assert.match(text, /^MIT License/);
    assert.match(text, /Copyright \(c\) \d{4} the hush authors/);
  });

  it('ships every source file its source maps point at, and no tests', () => {
    const files = packedFiles();
    const maps = [...files].filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 0, 'dist/ is built with source maps (npm run build)');
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const path = normalize(join(dirname(map), source));
        if (!files.has(path)) missing.push(`${map} → ${path}`);
      }
    }
    assert.deepEqual(missing, [], 'source maps point at files the tarball lacks');
    assert.deepEqual([...files].filter((f) => /\.test\.ts$|\/test-[^/]*\.ts$/.test(f)), [], 'no test files');
  });

  it('claims no Node version its runtime dependencies cannot load, and the README names those that warn', () => {
    const minimum = semver.minVersion(pkg.engines.node)!.version;
    const packages = runtimePackages();
    // An ES-module-only package that a CommonJS dependent require()s needs require(esm): Node 20.19 / 22.12.
    const required = packages.filter(
      (p) =>
        esmOnly(p) &&
        packages.some((dependent) => dependent.type !== 'module' && dependent.dependencies?.[p.name] && grepRequire(dependent.dir, p.name)),
    );
    if (required.length > 0) {
      assert.ok(semver.gte(minimum, '20.19.0'), `engines ${pkg.engines.node}, but ${required.map((p) => p.name).join(', ')} need require(esm) (Node ≥ 20.19)`);
    }
    const refusing = packages.filter((p) => p.engines?.node && !semver.satisfies(minimum, p.engines.node));
    for (const p of refusing) {
      const major = (JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as { version: string }).version.split('.')[0];
      assert.ok(readme.includes(`\`${p.name}@${major}\``), `README names ${p.name}@${major} (engines ${p.engines!.node}, hush claims ${pkg.engines.node})`);
    }
    assert.ok(readme.includes(`Node.js ${minimum.replace(/\.0$/, '')} or newer`), `README states the Node minimum ${minimum}`);
  });

  it('README TypeScript examples compile in a strict adopter project (exactOptionalPropertyTypes)', () => {
    // Inside the repository, `hush-auth/*` resolves to this package itself (dist/*.d.ts), as it would from node_modules.
    const dir = join(root, 'test-artifacts', 'readme-examples');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const guards = blocks.filter((code) => /from 'hush-auth\/(express|fastify|hono)'/.test(code));
    assert.ok(guards.length > 0, 'the README has a guard example');
    const files = guards.map((code, i) => {
      const file = join(dir, `example-${i}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files,
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    assert.equal(tsc.status, 0, `tsc:\n${tsc.stdout}${tsc.stderr}`);
  });
});

/** Whether any JavaScript file of the package at `dir` calls `require('<name>')`. */
function grepRequire(dir: string, name: string): boolean {
  const found = spawnSync('grep', ['-rlE', '--include=*.js', '--include=*.cjs', `require\\(['"]${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"]\\)`, dir], { encoding: 'utf8' });
  return found.status === 0;
}
