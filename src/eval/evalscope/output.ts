import { StringDecoder } from 'node:string_decoder';
import type { RunDisplay } from '../../util/display.js';

/**
 * tqdm's `label: 40%|████      | 8/20 [00:02<00:03, …]`, EvalScope's progress on stderr: `Predicting(IQ)` in 0.x
 * (evalscope/evaluator/evaluator.py), `Predicting[iquiz@IQ]` from 1.0 (the same file, rewritten).
 */
const PROGRESS = /^\s*([^:|]{1,80}):\s*\d+%\|[^|]*\|\s*(\d+)\/(\d+)/;

export interface ProgressLine {
  label: string;
  done: number;
  total: number;
}

export function parseProgress(line: string): ProgressLine | undefined {
  const match = PROGRESS.exec(line);
  if (!match) return undefined;
  const [, label = '', done = '0', total = '0'] = match;
  return { label: label.trim(), done: Number(done), total: Number(total) };
}

/** Shows each progress bar at its start, every quarter and its end, not every tqdm refresh. */
export function progressReporter(display: Pick<RunDisplay, 'info'>): (line: string) => void {
  const shown = new Map<string, number>();
  return (line) => {
    const progress = parseProgress(line);
    if (!progress) return;
    const { label, done, total } = progress;
    const quarter = total === 0 ? 4 : Math.floor((4 * done) / total);
    if (shown.get(label) === quarter) return;
    shown.set(label, quarter);
    display.info(`evalscope ${label}: ${done}/${total}`);
  };
}

/**
 * A child's output cut into whole lines, each with its ending (`\n`, or tqdm's `\r`): a chunk may end inside a
 * character, a progress count (`4/1` of `4/10`) or the API key, and each is read and masked only once whole.
 */
export function lineSplitter(onLine: (line: string) => void): { write(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (text: string): void => {
    pending += text;
    const end = Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r')) + 1;
    if (end === 0) return;
    for (const line of pending.slice(0, end).match(/[^\r\n]*[\r\n]/g) ?? []) onLine(line);
    pending = pending.slice(end);
  };
  return {
    write: (chunk) => emit(decoder.write(chunk)),
    end: () => {
      emit(decoder.end());
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}
