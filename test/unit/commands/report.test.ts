import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../../src/commands/report.js';
import type { ExplorerData } from '../../../src/report/html/explorer.js';
import { prediction, tempDir, writeRunFolder, writeMatrixFolder } from '../report/run-fixture.js';

const FILES = ['report.md', 'report.html', 'junit.xml'];

function explorerOf(dir: string): ExplorerData {
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  const open = html.indexOf('>', html.indexOf('id="explorer-data"')) + 1;
  return JSON.parse(html.slice(open, html.indexOf('</script>', open))) as ExplorerData;
}

describe('evalrig report', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes report.md, report.html and junit.xml again from the run folder, printing each', async () => {
    const dir = writeRunFolder(tempDir(), { evals: { quiz: [prediction({ id: 'IQ-0' })] } });
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await reportCommand.run([dir])).toBe(0);
    expect(log.mock.calls.map(([line]) => line)).toEqual(FILES.map((file) => join(dir, file)));
    for (const file of FILES) expect(existsSync(join(dir, file)), file).toBe(true);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('# demo: OK');
  });

  it('finds the compared run beside a folder copied from another machine, and marks the flipped samples', async () => {
    const root = tempDir();
    const earlier = writeRunFolder(join(root, '20261130-101500'), {
      evals: { quiz: [prediction({ id: 'IQ-0', extracted: 'B' }), prediction({ id: 'IQ-1' })] },
    });
    const now = writeRunFolder(join(root, '20261201-101500'), {
      evals: { quiz: [prediction({ id: 'IQ-0' }), prediction({ id: 'IQ-1' })] },
      summary: { compared_with: { run_dir: '/elsewhere/outputs/demo/20261130-101500', kind: 'previous' } },
    });
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await reportCommand.run([now]);
    expect(explorerOf(now).evals[0]?.samples.map((sample) => sample.flipped)).toEqual([
      { extracted: 'B', correct: false },
      null,
    ]);
    rmSync(earlier, { recursive: true });
    await reportCommand.run([now]);
    expect(explorerOf(now).evals[0]?.compared).toBe(false);
  });

  it('writes the files of a matrix folder and of each of its variants', async () => {
    const names = ['small', 'large'];
    const root = writeMatrixFolder(tempDir(), names, [prediction({ id: 'IQ-0' })]);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await reportCommand.run([root])).toBe(0);
    for (const dir of [root, ...names.map((name) => join(root, name))])
      for (const file of FILES) expect(existsSync(join(dir, file)), join(dir, file)).toBe(true);
    expect(readFileSync(join(root, 'report.html'), 'utf8')).toContain(
      '<a href="small/report.html">small</a>',
    );
  });

  it('refuses a folder that holds no run, and wants exactly one', async () => {
    await expect(reportCommand.run([tempDir()])).rejects.toThrow('is not a finished run folder');
    await expect(reportCommand.run([])).rejects.toThrow('give one run folder');
  });
});
