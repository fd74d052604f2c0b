import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../paths.js';

const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

/** A small tree shaped like src/, checked with the project's own layer rules. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-layers-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function check(files: Record<string, string>) {
  const dir = tree(files);
  made.push(dir);
  return execa(DEPCRUISE, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd: dir, reject: false });
}

describe('the layer rules (npm run lint)', () => {
  it('pass imports that go down the layers', async () => {
    const result = await check({
      'src/errors.ts': 'export class UserError extends Error {}\n',
      'src/util/delay.ts': "import { UserError } from '../errors.js';\nexport const x = UserError;\n",
      'src/run/run-plan.ts': "import { x } from '../util/delay.js';\nexport const y = x;\n",
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  });

  it('fail a reverse import, naming the rule and both files', async () => {
    const result = await check({
      'src/run/run-plan.ts': 'export const y = 1;\n',
      'src/util/delay.ts': "import { y } from '../run/run-plan.js';\nexport const x = y;\n",
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain('layer-util');
    expect(result.stdout).toContain('src/util/delay.ts → src/run/run-plan.ts');
  });

  it('fail errors.ts importing anything of ours', async () => {
    const result = await check({
      'src/util/paths.ts': 'export const p = 1;\n',
      'src/errors.ts': "import { p } from './util/paths.js';\nexport const e = p;\n",
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain('layer-errors');
  });

  it('fail server and host importing each other, and a cycle', async () => {
    const result = await check({
      'src/server/runtime.ts': "import { h } from '../host/facts.js';\nexport const s = h;\n",
      'src/host/facts.ts': "import { s } from '../server/runtime.js';\nexport const h = s;\n",
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain('layer-server');
    expect(result.stdout).toContain('layer-host');
    expect(result.stdout).toContain('no-cycles');
  });

  it('fail a runtime folder used from outside the registry', async () => {
    const result = await check({
      'src/server/docker/start.ts': 'export const start = 1;\n',
      'src/server/registry.ts': "import { start } from './docker/start.js';\nexport const r = start;\n",
      'src/run/run-plan.ts': "import { start } from '../server/docker/start.js';\nexport const y = start;\n",
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).toContain('runtime-docker-behind-registry: src/run/run-plan.ts');
    expect(result.stdout).not.toContain('src/server/registry.ts →');
  });
});
