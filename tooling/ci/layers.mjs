// The repository's layers, checked: presets below packages, packages below the harnesses and
// runners that use them, apps on top, and adapters independent of each other. Run by CI
// (`pnpm lint:layers`); it reads every workspace manifest and every source import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const ADAPTERS = ['express', 'fastify', 'hono', 'nestjs', 'next', 'shopify'].map((n) => `@chatgpt-ads/${n}`);

const workspaces = ['packages', 'tooling', 'apps'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => join(root, group, name))
    .filter((dir) => {
      try {
        return statSync(join(dir, 'package.json')).isFile();
      } catch {
        return false;
      }
    })
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) })),
);
const layerOf = new Map();
for (const { dir, manifest } of workspaces) {
  const name = manifest.name;
  const folder = relative(root, dir);
  const layer = folder.startsWith('packages/')
    ? 'package'
    : folder.startsWith('apps/')
      ? 'app'
      : ['@tooling/config', '@tooling/consent-fixtures', '@tooling/e2e', '@tooling/postgres'].includes(name)
        ? 'preset'
        : name === '@tooling/conformance'
          ? 'harness'
          : 'runner';
  layerOf.set(name, layer);
}

// Who may depend on whom (any kind of dependency, test-only included).
const ALLOWED = {
  preset: ['preset'],
  package: ['package', 'preset', 'harness'],
  harness: ['package', 'preset'],
  app: ['package', 'preset', 'harness'],
  runner: ['package', 'preset', 'harness', 'app', 'runner'],
};

function sourceImports(dir) {
  const found = new Set();
  const walk = (at) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (['node_modules', 'dist', '.next', '.turbo', 'test-output', 'fixture'].includes(entry.name))
        continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|tsx|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
        for (const match of readFileSync(path, 'utf8').matchAll(
          /from\s+['"](@(?:chatgpt-ads|tooling|apps)\/[^/'"]+)/g,
        ))
          found.add(match[1]);
    }
  };
  walk(dir);
  return found;
}

const problems = [];
for (const { dir, manifest } of workspaces) {
  const name = manifest.name;
  const layer = layerOf.get(name);
  const declared = {
    ...manifest.dependencies,
    ...manifest.peerDependencies,
    ...manifest.devDependencies,
  };
  const runtime = { ...manifest.dependencies, ...manifest.peerDependencies };
  const used = new Set([...Object.keys(declared), ...sourceImports(dir)]);
  for (const other of used) {
    if (other === name || !layerOf.has(other)) continue;
    const otherLayer = layerOf.get(other);
    if (!ALLOWED[layer].includes(otherLayer))
      problems.push(`${name} (${layer}) depends on ${other} (${otherLayer}): imports must not run back up`);
    if (layer === 'package' && otherLayer !== 'package' && other in runtime)
      problems.push(`${name} needs ${other} at run time; a published package may only need packages`);
    if (ADAPTERS.includes(name) && ADAPTERS.includes(other))
      problems.push(`${name} depends on ${other}: adapters are independent (shared code belongs in core)`);
    if (name === '@chatgpt-ads/core' && otherLayer === 'package')
      problems.push(`core depends on ${other}: core is the bottom of the packages`);
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
const counts = {};
for (const layer of layerOf.values()) counts[layer] = (counts[layer] ?? 0) + 1;
console.log(
  `layers hold: ${Object.entries(counts)
    .map(([layer, n]) => `${n} ${layer}(s)`)
    .join(', ')}`,
);
