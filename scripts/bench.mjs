#!/usr/bin/env node
// npm run bench <name>: runs bench/<name>.ts (TypeScript through tsx) after a build, so it measures the
// same compiled simulator the tests use. Exits with the benchmark's own code (1 when a target is missed).
import { $, argv, fs, path } from 'zx';

const name = argv._[0];
const root = path.resolve(import.meta.dirname, '..');
const available = fs
  .readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !available.includes(name)) {
  console.error(`Usage: npm run bench <name>\nBenchmarks: ${available.join(', ')}`);
  process.exit(2);
}
$.verbose = false;
await $({ cwd: root, stdio: 'inherit' })`npm run --silent build`;
const result = await $({
  cwd: root,
  stdio: 'inherit',
  nothrow: true,
})`node --import tsx ${path.join('bench', `${name}.ts`)} ${argv._.slice(1)}`;
process.exit(result.exitCode ?? 1);
