import { join, resolve } from 'node:path';

/** Paths every test may need, from one place, so that a test file can move without its paths breaking. */
export const ROOT = resolve(import.meta.dirname, '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** The CLI as users run it: the bundle of scripts/bundle.mjs (`npm run build`). */
export const CLI = join(ROOT, 'dist', 'cli', 'cli.js');
export const DEMO_QUIZ = join(ROOT, 'data', 'demo-quiz');
