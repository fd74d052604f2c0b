import { open, truncate, type FileHandle } from 'node:fs/promises';
import type { Sample } from '../../datasets/types.js';
import type { PredictionRecord } from '../types.js';
import type { ScoreTally, TalliedRecord } from './score.js';

/** An evaluation's files in its folder: one record per answer, and the scored result. */
export const PREDICTIONS_FILE = 'predictions.jsonl';
export const RESULT_FILE = 'result.json';

/**
 * Appends JSON lines in order, each written to the file as soon as its turn comes (no sync I/O). Lines that come
 * while a write is under way go out together in the next one: one write per burst of answers, not per line.
 */
export class JsonlAppender {
  private tail: Promise<void> = Promise.resolve();
  /** Lines waiting for the write that `queuedWrite` will make; undefined once that write has taken them. */
  private queued: string | undefined;
  private queuedWrite: Promise<void> = Promise.resolve();

  private constructor(private readonly file: FileHandle) {}

  /** `fresh` empties the file first; otherwise lines go after what it holds. */
  static async open(filePath: string, { fresh }: { fresh: boolean }): Promise<JsonlAppender> {
    return new JsonlAppender(await open(filePath, fresh ? 'w' : 'a'));
  }

  append(value: unknown): Promise<void> {
    const line = JSON.stringify(value) + '\n';
    if (this.queued !== undefined) {
      this.queued += line;
      return this.queuedWrite;
    }
    this.queued = line;
    const written = this.tail.then(() => {
      const lines = this.queued ?? '';
      this.queued = undefined;
      return this.file.appendFile(lines);
    });
    this.queuedWrite = written;
    // A failed write is reported to the callers of its lines; later lines still get their turn.
    this.tail = written.catch(() => undefined);
    return written;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.file.close();
  }
}

/** What an earlier run of the evaluation left in predictions.jsonl. */
export interface EarlierPredictions {
  /** Ids of the samples whose newest record is finished (an answer or a permanent error); tallied already. */
  finished: Set<string>;
  /** Retries of every line of the evaluation's samples, superseded ones included. */
  retries: number;
}

/**
 * Reads predictions.jsonl line by line, tallies the newest record of each of `samples` that is finished (an answer,
 * or a permanent error) and leaves the rest (no record, or a transient error) to be asked again. A last line
 * without its newline was torn by a kill mid-write: the file is cut back to the end of the line before it, so
 * that appended lines start on a line of their own. Lines that are not records, or not of `samples`, are ignored.
 */
export async function takeEarlierPredictions(
  filePath: string,
  samples: readonly Sample[],
  tally: ScoreTally,
): Promise<EarlierPredictions> {
  const { earlier, lines } = await readFinished(filePath, samples, tally);
  if (lines.tornBytes > 0) await truncate(filePath, lines.completeBytes);
  return earlier;
}

/**
 * Tallies what `takeEarlierPredictions` would take over, changing nothing on disk: the figures of the samples
 * answered so far, for the row of an evaluation that was stopped.
 */
export async function tallySavedPredictions(
  filePath: string,
  samples: readonly Sample[],
  tally: ScoreTally,
): Promise<EarlierPredictions> {
  return (await readFinished(filePath, samples, tally)).earlier;
}

async function readFinished(
  filePath: string,
  samples: readonly Sample[],
  tally: ScoreTally,
): Promise<{ earlier: EarlierPredictions; lines: { completeBytes: number; tornBytes: number } }> {
  const wanted = new Set(samples.map((sample) => sample.id));
  // The newest line per sample wins: its tallied fields when finished, null when it is to be asked again.
  const newest = new Map<string, TalliedRecord | null>();
  let retries = 0;
  const lines = await readCompleteLines(filePath, (line) => {
    const record = parseRecord(line);
    if (!record || !wanted.has(record.id)) return;
    retries += (record.attempts ?? 1) - 1;
    newest.set(record.id, isFinished(record) ? talliedFields(record) : null);
  });
  const finished = new Set<string>();
  for (const [id, record] of newest) {
    if (!record) continue;
    tally.add(record);
    finished.add(id);
  }
  return { earlier: { finished, retries }, lines };
}

/** Older records have no `attempts` or `error_kind`; an error without a kind is asked again. */
type StoredRecord = TalliedRecord & Partial<Pick<PredictionRecord, 'attempts' | 'error_kind'>>;

function parseRecord(line: string): StoredRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as StoredRecord;
    return typeof record.id === 'string' && typeof record.subset === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

function isFinished(record: StoredRecord): boolean {
  return record.error === null || record.error_kind === 'permanent';
}

function talliedFields(record: StoredRecord): TalliedRecord {
  const { id, subset, correct, truncated, error, usage, latency_ms } = record;
  return { id, subset, correct, truncated, error, usage, latency_ms };
}

const NEWLINE = 0x0a;

/**
 * Calls `onLine` for each line that ends with a newline, streaming (never the whole file in memory), and says where
 * the last of them ends and how many bytes follow it. A missing file has no lines.
 */
async function readCompleteLines(
  filePath: string,
  onLine: (line: string) => void,
): Promise<{ completeBytes: number; tornBytes: number }> {
  let file: FileHandle;
  try {
    file = await open(filePath, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { completeBytes: 0, tornBytes: 0 };
    throw error;
  }
  let completeBytes = 0;
  // The start of a line that continues in the next chunk. A newline byte never occurs inside a UTF-8 character.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  try {
    for await (const chunk of file.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        const piece = chunk.subarray(start, end);
        onLine((partialBytes > 0 ? Buffer.concat([...partial, piece]) : piece).toString('utf8'));
        completeBytes += partialBytes + piece.length + 1;
        partial = [];
        partialBytes = 0;
        start = end + 1;
      }
      if (start < chunk.length) {
        partial.push(chunk.subarray(start));
        partialBytes += chunk.length - start;
      }
    }
  } finally {
    await file.close();
  }
  return { completeBytes, tornBytes: partialBytes };
}
