#!/usr/bin/env node
// The CLI as users run it: one esbuild bundle of src/cli.ts in dist/cli/ (`npm run build` runs it after tsc).
// Node 20 has no compile cache, so each of the ~250 modules `validate` would load from dist/src and node_modules
// costs a file read, a parse and a link on every start; bundled, the start-up path is a handful of files. Dynamic
// `import()`s stay lazy chunks (splitting), so a command still loads only what it uses (docs/architecture.md,
// Start-up). dist/cli/meta.json says which packages each chunk holds (test/e2e/startup.test.ts reads it).
import { build } from 'esbuild';
import { chmodSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BUNDLE_DIR = join(ROOT, 'dist/cli');
// Built beside the bundle and swapped in whole: chunk names are content hashes, so a build in place would leave the
// old chunks behind, and removing them first would leave no CLI for a moment.
const NEXT_DIR = join(ROOT, 'dist/cli.next');
const OLD_DIR = join(ROOT, 'dist/cli.old');

/**
 * Packages left in node_modules: better-sqlite3 loads a native addon found relative to its own files; dockerode's
 * SSH transport may load native modules, and a dying run resolves dockerode by name for its last cleanup process.
 * Packages evalrig resolves at run time through createRequire (the t quantile, junit-report-builder, Chart.js's
 * browser bundle) are not imported, so esbuild never sees them; from dist/cli/ they resolve as from dist/src/.
 * openai names itself in its User-Agent header by its class name, which minifying would rename; it is loaded by a
 * run only, where a bundle saves nothing.
 */
const EXTERNAL = ['better-sqlite3', 'dockerode', 'openai'];

/**
 * zod's `z` namespace re-exports every locale of its error messages (half of zod's code), and evalrig imports `z`
 * whole, so esbuild cannot drop them. evalrig speaks English only: the namespace gets English alone, which zod
 * also sets as its default language. Fails the build where zod's files moved rather than silently keeping it all.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    let replaced = 0;
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, ({ resolveDir }) => {
      if (!/[/\\]node_modules[/\\]zod[/\\]v4[/\\](?:classic|core)$/.test(resolveDir)) return undefined;
      replaced++;
      return { path: 'zod-locales', namespace: 'zod-english-only' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: ROOT,
    }));
    build.onEnd((result) => {
      if (result.errors.length === 0 && replaced === 0)
        throw new Error(
          'bundle: zod no longer imports ../locales/index.js: update zodEnglishOnly in scripts/bundle.mjs',
        );
    });
  },
};

/**
 * The bundle's modules are ESM, but bundled CommonJS packages (yaml, cli-progress) call `require` for Node's own
 * modules, which esbuild's ESM output cannot do without a real `require`.
 */
const REQUIRE_SHIM =
  "import { createRequire as __evalrigCreateRequire } from 'node:module'; " +
  'const require = __evalrigCreateRequire(import.meta.url);';

rmSync(NEXT_DIR, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: ROOT,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: NEXT_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Less source for V8 to parse: `validate` starts ~20 ms sooner than unminified (docs/architecture.md, Start-up).
  minify: true,
  plugins: [zodEnglishOnly],
  // For NODE_OPTIONS=--enable-source-maps, off by default: it costs ~30 ms of every start (docs/architecture.md).
  sourcemap: 'linked',
  metafile: true,
  // The entry keeps its `#!/usr/bin/env node` from src/cli.ts, above this banner.
  banner: { js: REQUIRE_SHIM },
  logLevel: 'warning',
});
writeFileSync(join(NEXT_DIR, 'meta.json'), JSON.stringify(metafile));
chmodSync(join(NEXT_DIR, 'cli.js'), 0o755);
rmSync(OLD_DIR, { recursive: true, force: true });
if (existsSync(BUNDLE_DIR)) renameSync(BUNDLE_DIR, OLD_DIR);
renameSync(NEXT_DIR, BUNDLE_DIR);
rmSync(OLD_DIR, { recursive: true, force: true });
