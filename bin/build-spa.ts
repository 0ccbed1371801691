/**
 * Builds the browser app: spa/src (TypeScript + Preact) bundled by esbuild into dist/spa/assets
 * with content-hashed names (app-XXXXXXXX.js, app-XXXXXXXX.css, which frontends serve with a
 * year-long immutable cache), and dist/spa/index.html from the spa/index.html template naming
 * them (served with no-cache, so a browser always learns the current build). Files in
 * spa/public are copied as they are. Run by `npm run build` after tsc.
 */
import { build, type Metafile } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (dist/bin/build-spa.js is two levels below it). */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIR = join(REPO_ROOT, 'spa');
const TARGET_DIR = join(REPO_ROOT, 'dist', 'spa');
const ASSETS_DIR = join(TARGET_DIR, 'assets');
/** Browsers the app supports: those with <dialog>, :focus-visible and ES2022. */
const BROWSER_TARGETS = ['chrome109', 'firefox110', 'safari16'];

async function buildSpa(): Promise<void> {
  rmSync(TARGET_DIR, { recursive: true, force: true });
  mkdirSync(ASSETS_DIR, { recursive: true });
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { app: join(SOURCE_DIR, 'src', 'main.tsx') },
    bundle: true,
    format: 'esm',
    splitting: false,
    minify: true,
    sourcemap: 'linked',
    target: BROWSER_TARGETS,
    tsconfig: join(SOURCE_DIR, 'tsconfig.json'),
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: ASSETS_DIR,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const script = outputNamed(result.metafile, '.js');
  const styles = outputNamed(result.metafile, '.css');
  const template = readFileSync(join(SOURCE_DIR, 'index.html'), 'utf8');
  const page = fillTemplate(template, {
    'app-styles': `<link rel="stylesheet" href="/assets/${styles}">`,
    'app-script': `<script type="module" src="/assets/${script}"></script>`,
  });
  writeFileSync(join(TARGET_DIR, 'index.html'), page);
  const publicDir = join(SOURCE_DIR, 'public');
  if (existsSync(publicDir)) cpSync(publicDir, TARGET_DIR, { recursive: true });
  console.log(`spa: built dist/spa (assets/${script}, assets/${styles})`);
}

/** The one output of the build ending in `extension` (the entry's bundle or its styles). */
function outputNamed(metafile: Metafile, extension: string): string {
  const names = Object.keys(metafile.outputs).filter((p) => p.endsWith(extension));
  if (names.length !== 1) throw new Error(`expected one ${extension} output, got: ${names.join(', ') || 'none'}`);
  return basename(relative(ASSETS_DIR, join(REPO_ROOT, names[0]!)));
}

/** Replaces each `<!-- NAME -->` of the template; a missing placeholder is a build error. */
function fillTemplate(template: string, parts: Record<string, string>): string {
  let page = template;
  for (const [name, html] of Object.entries(parts)) {
    const marker = `<!-- ${name} -->`;
    if (!page.includes(marker)) throw new Error(`spa/index.html has no ${marker} placeholder`);
    page = page.replace(marker, html);
  }
  return page;
}

buildSpa().catch((err: unknown) => {
  console.error(`spa: build failed: ${(err as Error).message}`);
  process.exit(1);
});
