import { describe, expect, it } from 'vitest';
import { lineSplitter, parseProgress, progressReporter } from '../../../../src/eval/evalscope/output.js';

// tqdm's lines as EvalScope prints them: `Predicting(IQ): ` in 0.x, `Predicting[iquiz@IQ]: ` from 1.0.
const V0 = 'Predicting(IQ):  40%|████      | 16/40 [00:03<00:04,  5.12it/s]';
const V1 = 'Predicting[iquiz@IQ]: 100%|██████████| 40/40 [00:07<00:00,  5.49it/s]';

describe('EvalScope progress lines', () => {
  it('reads the label and the counts of both releases', () => {
    expect(parseProgress(V0)).toEqual({ label: 'Predicting(IQ)', done: 16, total: 40 });
    expect(parseProgress(V1)).toEqual({ label: 'Predicting[iquiz@IQ]', done: 40, total: 40 });
    expect(parseProgress('Predicting(EQ):   0%|          | 0/80 [00:00<?, ?it/s]')).toMatchObject({
      done: 0,
    });
  });

  it('ignores log lines', () => {
    expect(
      parseProgress('2025-07-22 10:00:01 - evalscope - INFO: Dump task config to ./outputs'),
    ).toBeUndefined();
    expect(parseProgress('')).toBeUndefined();
  });

  it('shows each bar at its start, each quarter and its end, not every refresh', () => {
    const shown: string[] = [];
    const report = progressReporter({ info: (message) => shown.push(message) });
    for (let done = 0; done <= 8; done += 1)
      report(`Predicting(IQ): ${done * 12}%|█| ${done}/8 [00:01<00:01]`);
    report('INFO done');
    expect(shown).toEqual([
      'evalscope Predicting(IQ): 0/8',
      'evalscope Predicting(IQ): 2/8',
      'evalscope Predicting(IQ): 4/8',
      'evalscope Predicting(IQ): 6/8',
      'evalscope Predicting(IQ): 8/8',
    ]);
  });
});

describe('a child output cut into whole lines', () => {
  it('joins chunks split inside a character and inside a count, each line with its ending', () => {
    const lines: string[] = [];
    const splitter = lineSplitter((line) => lines.push(line));
    const text = `INFO start\n${V0}\r${V1}\rWARNING no newline at the end`;
    const bytes = Buffer.from(text);
    const inBar = Buffer.byteLength(text.slice(0, text.indexOf('█'))) + 1;
    const inCount = Buffer.byteLength(text.slice(0, text.indexOf('16/40') + 4));
    splitter.write(bytes.subarray(0, inBar));
    splitter.write(bytes.subarray(inBar, inCount));
    splitter.write(bytes.subarray(inCount));
    expect(lines).toEqual(['INFO start\n', `${V0}\r`, `${V1}\r`]);
    splitter.end();
    expect(lines.at(-1)).toBe('WARNING no newline at the end');
    expect(lines.join('')).toBe(text);
  });
});
