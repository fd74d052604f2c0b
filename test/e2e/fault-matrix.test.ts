import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectServerGone,
  readJson,
  readJsonLines,
  runDirFrom,
  startCli,
  writeSimPlan,
  type PlanOverrides,
} from './cli-helpers.js';

/**
 * Each fault the simulator can inject, in the phase where it strikes, through the whole command: the exit code, the
 * message a person reads, what is on disk afterwards, and that nothing of the server is left (by process group).
 * The demo quiz has 40 questions.
 */

interface Prediction {
  id: string;
  error: string | null;
  error_kind: 'transient' | 'permanent' | null;
  attempts: number;
}

interface Case {
  phase: 'start-up' | 'evaluation' | 'teardown';
  fault: string;
  plan: PlanOverrides;
  exitCode: number;
  message: RegExp;
  /** What predictions.jsonl holds afterwards. */
  records: (lines: Prediction[]) => void;
  resumable: boolean;
}

const EVERY_SAMPLE_ONCE = (lines: Prediction[]) => {
  expect(new Set(lines.map((line) => line.id)).size).toBe(40);
  expect(lines.filter((line) => line.error === null)).toHaveLength(40);
};

/** A transient fault mended by retrying: every sample answered once, some only after more than one attempt. */
const RETRIED_TO_THE_END = (lines: Prediction[]) => {
  EVERY_SAMPLE_ONCE(lines);
  expect(lines.some((line) => line.attempts > 1)).toBe(true);
};

const CASES: Case[] = [
  {
    phase: 'start-up',
    fault: 'crash_on_load:cuda_oom',
    plan: {},
    exitCode: 1,
    message:
      /vLLM exited with code 1 before it was ready\.[\s\S]*cause: .*torch\.OutOfMemoryError: CUDA out of memory/,
    records: (lines) => expect(lines).toEqual([]),
    resumable: true,
  },
  {
    phase: 'start-up',
    fault: 'never_ready',
    plan: { server: { startup_timeout: '3s' } },
    exitCode: 1,
    message: /was not ready after 3 s \(server\.startup_timeout\)/,
    records: (lines) => expect(lines).toEqual([]),
    resumable: true,
  },
  {
    phase: 'evaluation',
    fault: 'crash_after:5',
    plan: { eval: { concurrency: 2 } },
    exitCode: 1,
    message: /quiz failed: vLLM exited during evaluation \(code 1\)/,
    records: (lines) => {
      expect(lines.filter((line) => line.error === null).length).toBeGreaterThanOrEqual(5);
      expect(lines.length).toBeLessThan(40);
    },
    resumable: true,
  },
  {
    phase: 'evaluation',
    fault: 'hang_after:5',
    plan: { server: { health_interval: '200ms', unhealthy_after: '1s' }, eval: { concurrency: 2 } },
    exitCode: 1,
    message: /quiz failed: vLLM stopped answering: http:\/\/127\.0\.0\.1:\d+\/health has failed for/,
    records: (lines) => expect(lines.filter((line) => line.error === null).length).toBeGreaterThanOrEqual(5),
    resumable: true,
  },
  {
    phase: 'evaluation',
    fault: 'http_error:503@1',
    plan: { generation: { retries: 0, max_consecutive_failures: 4 }, eval: { concurrency: 1 } },
    exitCode: 1,
    message: /quiz failed: vLLM stopped answering: 4 requests in a row failed after their retries/,
    records: (lines) => {
      expect(lines).toHaveLength(4);
      expect(lines.every((line) => line.error_kind === 'transient')).toBe(true);
    },
    resumable: true,
  },
  {
    phase: 'evaluation',
    fault: 'http_error:400x3',
    plan: { eval: { concurrency: 1 } },
    exitCode: 1,
    message: /quiz: 3 of 40 requests failed/,
    records: (lines) => {
      expect(lines).toHaveLength(40);
      const failed = lines.filter((line) => line.error !== null);
      expect(failed).toHaveLength(3);
      // A bad request is not retried: asking again would get the same answer.
      expect(failed.every((line) => line.error_kind === 'permanent' && line.attempts === 1)).toBe(true);
    },
    resumable: false,
  },
  {
    phase: 'evaluation',
    fault: 'http_error:503x1,http_error:429x1',
    plan: { generation: { retries: 3 }, eval: { concurrency: 1 } },
    exitCode: 0,
    message: /OVERALL/,
    records: RETRIED_TO_THE_END,
    resumable: false,
  },
  {
    phase: 'evaluation',
    fault: 'break_stream:0.2',
    plan: { generation: { stream: true, retries: 5 } },
    exitCode: 0,
    message: /OVERALL/,
    records: RETRIED_TO_THE_END,
    resumable: false,
  },
  {
    phase: 'evaluation',
    fault: 'stall_stream:0.1',
    plan: { generation: { stream: true, timeout: '1s', retries: 5 } },
    exitCode: 0,
    message: /OVERALL/,
    records: RETRIED_TO_THE_END,
    resumable: false,
  },
  {
    phase: 'teardown',
    fault: 'ignore_sigterm',
    plan: { server: { stop_timeout: '1s' }, eval: { limit: 2 } },
    exitCode: 0,
    message: /did not exit within 1 s of SIGTERM; killed with SIGKILL/,
    records: (lines) => expect(lines).toHaveLength(4),
    resumable: false,
  },
];

describe.concurrent('faults × phases: exit code, message, records, nothing left', () => {
  for (const c of CASES) {
    it(`${c.fault} during ${c.phase}: exit ${c.exitCode}`, async () => {
      const { file } = writeSimPlan({
        ...c.plan,
        sim: { VLLM_SIM_FAULT: c.fault, VLLM_SIM_TOKEN_LATENCY_MS: '2', VLLM_SIM_SEED: '3', ...c.plan.sim },
      });
      const result = await startCli(['plan', file, '--skip-preflight']);
      expect(result.exitCode, result.all).toBe(c.exitCode);
      expect(result.all).toMatch(c.message);
      const runDir = runDirFrom(result.all);
      const predictions = join(runDir, 'evals/quiz/predictions.jsonl');
      c.records(existsSync(predictions) ? readJsonLines<Prediction>(predictions) : []);
      expect(readJson<{ status: string }>(join(runDir, 'summary.json')).status).toBe(
        c.exitCode === 0 ? 'ok' : 'failed',
      );
      if (c.resumable) expect(result.all).toMatch(/To continue this run: evalrig plan \S+ .*--resume \S+/);
      // No evalrig secret and no half-written file: every line of predictions.jsonl parses.
      if (existsSync(predictions))
        for (const line of readFileSync(predictions, 'utf8').split('\n').filter(Boolean))
          expect(() => JSON.parse(line) as unknown).not.toThrow();
      expectServerGone(runDir);
    });
  }
});
