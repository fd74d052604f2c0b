import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectServerGone,
  readJson,
  runDirFrom,
  SIM_VLLM,
  startCli,
  startEmptyDockerEngine,
  withEmptySlurmQueue,
  waitFor,
  writeSimPlan,
} from './cli-helpers.js';

/** `evalrig plan` as a whole command: what happens around the run (versions, budget, signals, matrices, leftovers). */

interface Manifest {
  server: { pid: number | null; notices: string[] };
}

describe.concurrent('versions: rendered before start, checked against /version', () => {
  it('stops the run when the served version needs other flags than the ones rendered', async () => {
    // Pinned 0.8.5: `--enable-reasoning --reasoning-parser deepseek_r1`, which a 0.9.2 server accepts, but 0.9.2
    // itself wants `--reasoning-parser qwen3`.
    const { file } = writeSimPlan({ server: { vllm_version: '0.8.5' }, sim: { VLLM_SIM_VERSION: '0.9.2' } });
    const result = await startCli(['plan', file, '--skip-preflight']);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain(
      'vLLM reports version 0.9.2 at /version, but the flags were rendered for 0.8.5 (pinned by server.vllm_version: 0.8.5), and 0.9.2 needs other flags',
    );
    expectServerGone(runDirFrom(result.all));
  });

  it('goes on with a note when both versions get the same flags', async () => {
    const { file } = writeSimPlan({ server: { vllm_version: '0.9.2' }, eval: { limit: 2 } });
    const result = await startCli(['plan', file, '--skip-preflight']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain(
      'vLLM reports version 0.17.1 at /version, but the flags were rendered for 0.9.2',
    );
    expect(result.all).toContain('both get the same flags, so the run goes on');
    const runDir = runDirFrom(result.all);
    expect(readJson<Manifest>(join(runDir, 'manifest.json')).server.notices.join('\n')).toContain(
      'both get the same flags',
    );
    expectServerGone(runDir);
  });

  it('validate rejects what --dry-run rejects: flags the pinned version would refuse', async () => {
    const { file } = writeSimPlan({ server: { vllm_version: '0.8.5', extra_args: ['--enable-reasoning'] } });
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ *reasoning_parser: .*\n/m, ''));
    const dryRun = await startCli(['plan', file, '--dry-run']);
    const validate = await startCli(['validate', file]);
    for (const result of [dryRun, validate]) {
      expect(result.exitCode, result.all).toBe(2);
      expect(result.all).toContain('vLLM 0.8.5: --enable-reasoning needs --reasoning-parser');
    }
  });
});

describe.concurrent('the generation budget', () => {
  it('refuses max_tokens that cannot fit max_model_len before the server starts', async () => {
    const { file } = writeSimPlan({ server: { max_model_len: 1024 }, generation: { max_tokens: 2000 } });
    const result = await startCli(['plan', file, '--skip-preflight']);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(/The generation budget does not fit server\.max_model_len \(1024\)/);
    expect(result.all).toMatch(
      /quiz: the longest prompt takes at least \d+ tokens and generation\.max_tokens is 2000/,
    );
    expect(result.all).not.toContain('started:');
    expect(readJson<Manifest>(join(runDirFrom(result.all), 'manifest.json')).server.pid).toBeNull();
  });
});

describe.concurrent('one signal trap for the whole command', () => {
  it('a Ctrl-C while the vLLM version is being detected exits 130 at once', async () => {
    const { file, dir } = writeSimPlan();
    // A vLLM whose `--version` hangs (a Python import stuck on a lock).
    const slow = join(dir, 'slow-vllm');
    writeFileSync(slow, `#!/bin/sh\ntouch ${slow}.asked\nsleep 30\n`);
    chmodSync(slow, 0o755);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/executable: .*/, `executable: ${slow}`));
    const child = startCli(['plan', file]);
    await waitFor(() => existsSync(`${slow}.asked`), 30_000, 'the version detection');
    const sentAt = Date.now();
    child.kill('SIGINT');
    const result = await child;
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('SIGINT received');
    expect(result.all).toContain('Interrupted (SIGINT) before any server started.');
  });

  it('a Ctrl-C between matrix variants stops the rest and still writes the matrix summary', async () => {
    const { file } = writeSimPlan({ eval: { limit: 2 } });
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        [
          'matrix:',
          '  - name: first',
          '    set: { server.seed: 1 }',
          '  - name: second',
          '    set: { server.seed: 2 }',
          '',
        ].join('\n'),
    );
    const child = startCli(['plan', file, '--skip-preflight']);
    let output = '';
    child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('teardown:'), 30_000, 'the first variant to end');
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    const runDir = runDirFrom(result.all);
    const summary = readJson<{ status: string; variants: { name: string }[] }>(join(runDir, 'summary.json'));
    expect(summary.status).toBe('interrupted');
    expect(summary.variants[0]?.name).toBe('first');
    expect(existsSync(join(runDir, 'report.md'))).toBe(true);
    for (const variant of readdirSync(runDir).filter((name) => ['first', 'second'].includes(name)))
      if (existsSync(join(runDir, variant, 'manifest.json')))
        expect(
          readJson<Manifest>(join(runDir, variant, 'manifest.json')).server.pid === null ||
            expectServerGone(join(runDir, variant)),
        ).toBeTruthy();
  });
});

describe.concurrent('a watched server', () => {
  it('a wedged server stops the evaluation with "vLLM stopped answering", not one time-out per request', async () => {
    const { file } = writeSimPlan({
      server: { health_interval: '200ms', unhealthy_after: '1s' },
      sim: { VLLM_SIM_FAULT: 'hang_after:3', VLLM_SIM_TOKEN_LATENCY_MS: '5' },
      eval: { concurrency: 1 },
      generation: { timeout: 600 },
    });
    const started = Date.now();
    const result = await startCli(['plan', file, '--skip-preflight']);
    expect(result.exitCode, result.all).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.all).toMatch(
      /quiz failed: vLLM stopped answering: http:\/\/127\.0\.0\.1:\d+\/health has failed for/,
    );
    expectServerGone(runDirFrom(result.all));
  });
});

describe.concurrent("the run's own API key", () => {
  it('is generated, reaches vLLM through its environment, and appears in no file of the run and not on the console', async () => {
    const { file, dir } = writeSimPlan({ eval: { limit: 2 } });
    // A vllm that notes the key it was given, somewhere outside the run folder, then is the simulator.
    const seen = join(dir, 'keys-seen');
    const vllm = join(dir, 'vllm-noting-its-key');
    writeFileSync(vllm, `#!/bin/sh\necho "key=$VLLM_API_KEY" >> ${seen}\nexec ${SIM_VLLM} "$@"\n`);
    chmodSync(vllm, 0o755);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/executable: .*/, `executable: ${vllm}`));
    const result = await startCli(['plan', file, '--skip-preflight']);
    expect(result.exitCode, result.all).toBe(0);
    const key = readFileSync(seen, 'utf8').trim().split('\n').at(-1)?.replace(/^key=/, '') ?? '';
    expect(key).toMatch(/^evalrig-[A-Za-z0-9_-]{32}$/);
    expect(result.all).not.toContain(key);
    const runDir = runDirFrom(result.all);
    const files = readdirSync(runDir, { recursive: true, withFileTypes: true }).filter((entry) =>
      entry.isFile(),
    );
    expect(files.length).toBeGreaterThan(5);
    for (const entry of files)
      expect(readFileSync(join(entry.parentPath, entry.name), 'utf8'), entry.name).not.toContain(key);
    expectServerGone(runDir);
  });
});

describe('notifications', () => {
  it("a failed run posts its summary to the plan's webhook; the webhook failing does not change the exit code", async () => {
    const received: unknown[] = [];
    const hook = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        received.push(JSON.parse(text));
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const { port } = hook.address() as { port: number };
    try {
      const { file } = writeSimPlan({ sim: { VLLM_SIM_FAULT: 'crash_after:3' }, eval: { concurrency: 1 } });
      const notify = [
        `notify:`,
        `  - { url: "http://127.0.0.1:${port}/hook", kind: json, on: failure, retries: 0 }`,
        `  - { url: "http://127.0.0.1:1/unreachable", kind: slack, on: always, retries: 0, timeout: 1s }`,
        '',
      ].join('\n');
      writeFileSync(file, readFileSync(file, 'utf8') + notify);
      const result = await startCli(['plan', file, '--skip-preflight']);
      expect(result.exitCode, result.all).toBe(1);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ status: 'failed', exit_code: 1, plan: 'e2e' });
      expect(result.all).toMatch(/warning: .*127\.0\.0\.1:1/);
      expectServerGone(runDirFrom(result.all));
    } finally {
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});

describe('leftovers', () => {
  it('a local plan never talks to Docker; cleanup asks every runtime', async () => {
    const { dir, file } = writeSimPlan({ eval: { limit: 1 } });
    const engine = await startEmptyDockerEngine(dir);
    const { asked } = engine;
    try {
      const env = { DOCKER_HOST: engine.host };
      const run = await startCli(['plan', file, '--skip-preflight'], env);
      expect(run.exitCode, run.all).toBe(0);
      expect(asked).toEqual([]);

      const cleanup = await startCli(['cleanup'], withEmptySlurmQueue(env));
      expect(cleanup.exitCode, cleanup.all).toBe(0);
      expect(cleanup.all).toContain('No leftover local vLLM processes.');
      expect(cleanup.all).toContain(`No leftover evalrig containers on ${engine.host}.`);
      expect(asked.some((request) => request.startsWith('GET') && request.includes('/containers/json'))).toBe(
        true,
      );
    } finally {
      await engine.close();
    }
  });
});
