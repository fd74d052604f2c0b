import { join, resolve } from 'node:path';

/** Paths every test may need, from one place, so that a test file can move without its paths breaking. */
export const ROOT = resolve(import.meta.dirname, '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');
export const DEMO_QUIZ = join(ROOT, 'data', 'demo-quiz');
