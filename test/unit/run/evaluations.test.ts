import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InterruptedError } from '../../../src/errors.js';
import type { PreparedEval } from '../../../src/eval/evaluator.js';
import { PlanSchema } from '../../../src/plan/schema.js';
import { runEvaluations, type EvaluationsContext } from '../../../src/run/evaluations.js';
import type { ManifestFile } from '../../../src/run/manifest.js';
import type { ServerHandle } from '../../../src/server/runtime.js';
import { silentDisplay } from '../../../src/util/display.js';

describe('runEvaluations', () => {
  it('starts no evaluation once the run is interrupted, and gives the one it never started no row', async () => {
    const plan = PlanSchema.parse({
      name: 'p',
      server: { model: '/m' },
      evals: [{ name: 'quiz', backend: 'native', dataset: 'iquiz', dataset_path: '/data' }],
    });
    const [spec] = plan.evals;
    if (!spec) throw new Error('no eval');
    const prepared = { spec, samples: [] } as unknown as PreparedEval;
    const stop = new AbortController();
    stop.abort(new InterruptedError('SIGINT'));
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-evaluations-'));
    const ctx: EvaluationsContext = {
      runDir,
      manifest: {} as ManifestFile,
      runSignal: stop.signal,
      display: silentDisplay,
      mask: (text) => text,
      resume: false,
      health: { intervalMs: 1_000, unhealthyAfterMs: 10_000 },
      summaries: [],
    };
    const server = {
      exited: new Promise(() => undefined),
      baseUrl: 'http://127.0.0.1:9',
    } as unknown as ServerHandle;

    await expect(
      runEvaluations([prepared], { baseUrl: 'http://127.0.0.1:9/v1', servedModel: 'm' }, server, ctx),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(ctx.summaries).toEqual([]);
    expect(readdirSync(runDir)).toEqual([]);
  });
});
