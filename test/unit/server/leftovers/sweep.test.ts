import { describe, expect, it } from 'vitest';
import { cleanupLeftovers, type CleanupOptions } from '../../../../src/server/leftovers/sweep.js';
import type { Leftover, LeftoverSource } from '../../../../src/server/runtime.js';

/** A leftover whose stop is recorded, and that stops (or not) as told. */
function leftover(
  name: string,
  verdict: Leftover['verdict'],
  stops = true,
): Leftover & { stopCalls: number } {
  return {
    name,
    detail: 'vllm serve m',
    verdict,
    reason: verdict === 'orphan' ? 'owner pid 1 is gone' : 'owner pid 2 is running',
    stopCalls: 0,
    async stop() {
      this.stopCalls += 1;
      return stops ? { stopped: true, detail: 'stopped' } : { stopped: false, detail: 'still running' };
    },
  };
}

function place(label: string, find: () => Promise<Leftover[]>, available = true): LeftoverSource {
  return { label, available: () => available, find };
}

function recorder(act: boolean): CleanupOptions & { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  return {
    act,
    graceMs: 10,
    lines,
    warnings,
    print: (line) => lines.push(line),
    warn: (message) => warnings.push(message),
  };
}

const unreachable = () =>
  Promise.reject(new Error('evalrig: cannot reach the Docker engine at unix:///gone.sock (connect ENOENT).'));

describe('cleanupLeftovers', () => {
  it('still cleans the other places when one cannot be searched, and warns about it with why', async () => {
    const orphan = leftover('process group 42', 'orphan');
    const owned = leftover('process group 43', 'owned');
    const options = recorder(true);
    const outcome = await cleanupLeftovers(options, [
      place('evalrig containers on unix:///gone.sock', unreachable),
      place('local vLLM processes', () => Promise.resolve([orphan, owned])),
    ]);

    expect(outcome).toEqual({ notStopped: 0, unsearched: ['evalrig containers on unix:///gone.sock'] });
    expect(orphan.stopCalls).toBe(1);
    expect(owned.stopCalls).toBe(0);
    expect(options.lines).toContain('  process group 42: stopped');
    expect(options.warnings[0]).toBe(
      'evalrig containers on unix:///gone.sock not searched: cannot reach the Docker engine at unix:///gone.sock (connect ENOENT).',
    );
    expect(options.warnings[1]).toMatch(
      /^not searched: evalrig containers on unix:\/\/\/gone\.sock\. .*run `evalrig cleanup` again/,
    );
  });

  it('counts the orphans it could not stop, a stop that throws among them, and goes on with the rest', async () => {
    const stubborn = leftover('Slurm job 7', 'orphan', false);
    const throwing: Leftover = {
      ...leftover('Slurm job 8', 'orphan'),
      stop: () => Promise.reject(new Error('scancel: command not found')),
    };
    const fine = leftover('Slurm job 9', 'orphan');
    const options = recorder(true);
    const outcome = await cleanupLeftovers(options, [
      place('evalrig jobs in the Slurm queue', () => Promise.resolve([stubborn, throwing, fine])),
    ]);

    expect(outcome).toEqual({ notStopped: 2, unsearched: [] });
    expect(options.lines).toEqual(
      expect.arrayContaining([
        '  Slurm job 7: NOT stopped: still running',
        '  Slurm job 8: NOT stopped: scancel: command not found',
        '  Slurm job 9: stopped',
      ]),
    );
    expect(options.warnings).toEqual([]);
  });

  it('without --yes lists the orphans and stops nothing; an unconfigured place is not searched nor a warning', async () => {
    const orphan = leftover('process group 42', 'orphan');
    let searchedUnconfigured = false;
    const options = recorder(false);
    const outcome = await cleanupLeftovers(options, [
      place('local vLLM processes', () => Promise.resolve([orphan])),
      place(
        'evalrig containers on unix:///var/run/docker.sock',
        () => {
          searchedUnconfigured = true;
          return Promise.resolve([]);
        },
        false,
      ),
    ]);

    expect(outcome).toEqual({ notStopped: 0, unsearched: [] });
    expect(orphan.stopCalls).toBe(0);
    expect(searchedUnconfigured).toBe(false);
    expect(options.lines).toEqual([
      'No evalrig containers on unix:///var/run/docker.sock: not configured on this machine, nothing to clean.',
      'Leftover local vLLM processes of runs whose evalrig is gone (1):',
      '  process group 42: vllm serve m: owner pid 1 is gone',
      'Dry run: nothing was stopped or removed. Run `evalrig cleanup --yes` to stop them.',
    ]);
    expect(options.warnings).toEqual([]);
  });

  it('searches every place at once: a slow place does not delay the search of the others', async () => {
    const started: string[] = [];
    const slow = (label: string) =>
      place(label, () => {
        started.push(label);
        return new Promise((resolve) => setTimeout(() => resolve([]), 50));
      });
    const searching = cleanupLeftovers(recorder(false), [slow('a'), slow('b')]);
    expect(started).toEqual(['a', 'b']);
    await searching;
  });
});
