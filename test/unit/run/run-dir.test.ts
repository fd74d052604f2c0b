import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlanSchema } from '../../../src/plan/schema.js';
import { collectSecrets } from '../../../src/plan/secrets.js';
import { createRunDir } from '../../../src/run/run-dir.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'evalrig-io-'));

describe('secrets and run directories', () => {
  it('treats values of secret flags in extra_args as secrets', () => {
    const plan = PlanSchema.parse({
      name: 'p',
      server: { model: 'm', extra_args: ['--hf-token', 'hf_abcdefgh', '--api_key=sk-12345678'] },
      evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
    });
    expect(collectSecrets(plan, [], {})).toEqual(expect.arrayContaining(['hf_abcdefgh', 'sk-12345678']));
  });

  it('never hands out the same run directory twice, even within one second', () => {
    const out = tmp();
    const now = new Date('2026-01-02T03:04:05');
    const first = createRunDir(out, 'plan', now);
    const second = createRunDir(out, 'plan', now);
    expect(first.runId).toBe('20260102-030405');
    expect(second.runId).toBe('20260102-030405-2');
  });
});
