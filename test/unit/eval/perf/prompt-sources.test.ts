import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPromptFile } from '../../../../src/eval/perf/prompt-sources.js';
import { problemsOf, writePlan } from '../../plan/helpers.js';

function promptFile(lines: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'evalrig-prompts-')), 'prompts.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('a prompts file', () => {
  it('reads {"prompt"} and {"messages"} lines, blank lines skipped, with its checksum', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Name a prime.' }] },
    ];
    const file = promptFile([JSON.stringify({ prompt: 'Say hi.' }), '', JSON.stringify({ messages })]);
    const loaded = await loadPromptFile(file);
    expect(loaded.messages).toEqual([[{ role: 'user', content: 'Say hi.' }], messages]);
    expect(loaded.provenance.files).toEqual([
      { path: file, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), records: 2 },
    ]);
  });

  it('lists every unusable line with its number and why', async () => {
    const file = promptFile([
      JSON.stringify({ prompt: 'ok' }),
      '{not json',
      JSON.stringify({ prompt: 3 }),
      JSON.stringify({ messages: [{ content: 'no role' }] }),
      JSON.stringify({ text: 'neither key' }),
    ]);
    const error = await loadPromptFile(file).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('4 unusable line(s)');
    expect(message).toContain(`${file}:2: not valid JSON`);
    expect(message).toContain(`${file}:3: "prompt" must be a string`);
    expect(message).toContain(
      `${file}:4: messages[0] must be an object with a "role" string and a "content"`,
    );
    expect(message).toContain(`${file}:5: expected "prompt" (a string) or "messages" (a non-empty list)`);
  });

  it('says which file is missing', async () => {
    await expect(loadPromptFile('/nonexistent/prompts.jsonl')).rejects.toThrow(
      /prompts file \/nonexistent\/prompts.jsonl cannot be read \(ENOENT\)/,
    );
  });
});

const perfPlan = (evalLines: string) => `name: t
server:
  model: /models/Qwen3-8B
evals:
  - name: load
    backend: perf
${evalLines}`;

describe('perf plan checks, at their line and column', () => {
  it('takes requests or duration, not both', () => {
    const problems = problemsOf(writePlan(perfPlan('    requests: 10\n    duration: 30s\n')));
    expect(problems).toEqual([
      expect.objectContaining({
        line: 8,
        col: 15,
        path: 'evals[0].duration',
        message: 'give either requests (a count per level) or duration (a time per level), not both',
      }),
    ]);
  });

  it('takes prompts from a file or a dataset, and dataset keys only with a dataset', () => {
    const both = problemsOf(
      writePlan(
        perfPlan('    prompts:\n      file: p.jsonl\n      dataset: iquiz\n      input_tokens: 64\n'),
      ),
    );
    expect(both).toEqual([
      expect.objectContaining({
        line: 9,
        path: 'evals[0].prompts.dataset',
        message: expect.stringContaining('not both'),
      }),
      expect.objectContaining({ line: 10, path: 'evals[0].prompts.input_tokens' }),
    ]);
    const stray = problemsOf(writePlan(perfPlan('    prompts:\n      file: p.jsonl\n      subsets: [IQ]\n')));
    expect(stray).toEqual([
      expect.objectContaining({
        line: 9,
        col: 16,
        path: 'evals[0].prompts.subsets',
        message: expect.stringContaining('belongs with dataset'),
      }),
    ]);
  });
});
