// Bundles web/src into the gateway's embedded assets
// (services/gateway/internal/web/static), which are committed: `make run`
// needs Go only, and `make check-web` fails when they are stale. One page
// per directory of src/ holding index.html and main.js; src/lib is shared
// code. See docs/adr/0016-web-front.md.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const out = join(root, '..', 'services', 'gateway', 'internal', 'web', 'static');

const pages = readdirSync(src, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(src, d.name, 'main.js')) && existsSync(join(src, d.name, 'index.html')))
  .map((d) => d.name)
  .sort();

// Output is rebuilt from nothing so that a removed source leaves no stale
// asset behind, and the same sources give the same bytes.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  target: ['es2022'],
  charset: 'utf8',
  legalComments: 'eof',
  logLevel: 'warning',
  // No eval, no Function: the pages run under a CSP without 'unsafe-eval'.
  supported: { 'dynamic-import': true },
};

await build({
  ...common,
  entryPoints: pages.map((p) => ({ in: join(src, p, 'main.js'), out: join(p, 'main') })),
  outdir: out,
  format: 'esm',
  // Shared code stays inside each page's bundle: a page loads one script.
  splitting: false,
});

// The loader a shop's page includes with one script tag: a classic script,
// not a module, so that it runs in any page.
await build({
  ...common,
  entryPoints: [{ in: join(src, 'widget', 'embed.js'), out: join('widget', 'embed') }],
  outdir: out,
  format: 'iife',
});

await build({
  ...common,
  entryPoints: [{ in: join(src, 'lib', 'base.css'), out: 'base' }],
  outdir: out,
});

for (const p of pages) {
  cpSync(join(src, p, 'index.html'), join(out, p, 'index.html'));
}
console.log(`web: built ${pages.join(', ')} into ${out}`);
