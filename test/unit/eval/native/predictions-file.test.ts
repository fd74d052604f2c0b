import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../../src/datasets/types.js';
import {
  JsonlAppender,
  tallySavedPredictions,
  takeEarlierPredictions,
} from '../../../../src/eval/native/predictions-file.js';
import { ScoreTally } from '../../../../src/eval/native/score.js';

function sample(id: string): Sample {
  return { id, subset: 'IQ', question: 'q', choices: ['a', 'b'], answer: 'A', meta: {} };
}

function record(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    subset: 'IQ',
    // Long, multi-byte text, so that lines span the reader's chunks and characters straddle their edges.
    reasoning: '推理'.repeat(5000),
    correct: true,
    truncated: false,
    error: null,
    error_kind: null,
    usage: null,
    latency_ms: 10,
    attempts: 1,
    ...extra,
  });
}

function predictionsFile(content: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'evalrig-predictions-')), 'predictions.jsonl');
  writeFileSync(file, content);
  return file;
}

describe('takeEarlierPredictions', () => {
  it('reads every complete line of a file larger than one read chunk', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `Q-${i}`);
    const file = predictionsFile(ids.map((id) => record(id) + '\n').join(''));
    expect(statSync(file).size).toBeGreaterThan(64 * 1024 * 10);
    const tally = new ScoreTally();
    const earlier = await takeEarlierPredictions(file, ids.map(sample), tally);
    expect(earlier.finished).toEqual(new Set(ids));
    expect(tally.metrics()).toMatchObject({ num: 30, score: 1 });
  });

  it('cuts a torn last line off the file, back to the end of the last complete one', async () => {
    const complete = record('Q-0') + '\n';
    const file = predictionsFile(complete + record('Q-1').slice(0, 70_000));
    const earlier = await takeEarlierPredictions(file, [sample('Q-0'), sample('Q-1')], new ScoreTally());
    expect(earlier.finished).toEqual(new Set(['Q-0']));
    expect(readFileSync(file, 'utf8')).toBe(complete);
  });

  it('keeps the newest line of each sample, asking again a transient error or an error of unknown kind', async () => {
    const file = predictionsFile(
      [
        record('Q-0', { error: 'HTTP 503', error_kind: 'transient', correct: false, attempts: 3 }),
        record('Q-0', { attempts: 2 }),
        record('Q-1', { error: 'HTTP 400', error_kind: 'permanent', correct: false }),
        // Written before records had error_kind.
        record('Q-2', { error: 'timed out', error_kind: undefined, attempts: undefined, correct: false }),
        record('Q-3'),
        record('Q-3', { error: 'connection failed', error_kind: 'transient', correct: false }),
      ].join('\n') + '\n',
    );
    const tally = new ScoreTally();
    const earlier = await takeEarlierPredictions(file, ['Q-0', 'Q-1', 'Q-2', 'Q-3'].map(sample), tally);
    expect(earlier).toEqual({ finished: new Set(['Q-0', 'Q-1']), retries: 3 });
    expect(tally.metrics()).toMatchObject({ num: 2, score: 0.5, errors: 1 });
  });

  it('ignores lines of other samples and lines that are not records', async () => {
    const file = predictionsFile(
      [record('Q-0'), record('gone-1'), '{"not":"a record"}', 'garbage'].join('\n') + '\n',
    );
    const tally = new ScoreTally();
    const earlier = await takeEarlierPredictions(file, [sample('Q-0')], tally);
    expect(earlier.finished).toEqual(new Set(['Q-0']));
    expect(tally.progress).toEqual({ num: 1, correct: 1 });
  });

  it('finds nothing when there is no file', async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'evalrig-predictions-')), 'predictions.jsonl');
    expect(await takeEarlierPredictions(missing, [sample('Q-0')], new ScoreTally())).toEqual({
      finished: new Set(),
      retries: 0,
    });
  });
});

describe('tallySavedPredictions', () => {
  it('tallies the newest finished record of each sample as a resume would, leaving a torn line on disk', async () => {
    const content =
      record('Q-1', { correct: false }) +
      '\n' +
      record('Q-2', { error: 'HTTP 503', error_kind: 'transient' }) +
      '\n' +
      record('Q-1') +
      '\n' +
      record('Q-3', { correct: false, error: 'HTTP 400', error_kind: 'permanent' }) +
      '\n' +
      record('Q-4').slice(0, 40);
    const file = predictionsFile(content);
    const tally = new ScoreTally();
    const saved = await tallySavedPredictions(file, ['Q-1', 'Q-2', 'Q-3', 'Q-4'].map(sample), tally);
    expect([...saved.finished].sort()).toEqual(['Q-1', 'Q-3']);
    expect(tally.metrics()).toMatchObject({
      num: 2,
      score: 0.5,
      errors: 1,
      subsets: [{ name: 'IQ', num: 2 }],
    });
    expect(readFileSync(file, 'utf8')).toBe(content);
  });
});

describe('JsonlAppender', () => {
  it('writes every line in order, those appended during a write together in the next one', async () => {
    const file = predictionsFile('{"earlier":true}\n');
    const appender = await JsonlAppender.open(file, { fresh: false });
    const first = appender.append({ n: 0 });
    // Appended while the first write is under way: they wait for it, then go out together.
    const rest = Array.from({ length: 200 }, (_, i) => appender.append({ n: i + 1, text: '答'.repeat(i) }));
    await Promise.all([first, ...rest]);
    await appender.append({ n: 201 });
    await appender.close();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('{"earlier":true}');
    expect(lines.slice(1).map((line) => (JSON.parse(line) as { n: number }).n)).toEqual(
      Array.from({ length: 202 }, (_, i) => i),
    );
  });

  it('reports a failed write to the callers of its lines, and closes after it', async () => {
    const appender = await JsonlAppender.open(predictionsFile(''), { fresh: true });
    await appender.close();
    const lines = [appender.append({ n: 1 }), appender.append({ n: 2 })];
    for (const written of lines) await expect(written).rejects.toThrow();
  });
});
