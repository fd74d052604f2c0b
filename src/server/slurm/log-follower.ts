import { open } from 'node:fs/promises';
import { delay } from '../../util/delay.js';
import type { LogSink } from '../log-sink.js';

/** How often the job's output file is read for new lines. */
const FOLLOW_MS = 250;

/**
 * Copies what the job writes to its output file (on the cluster's shared file system) into the sink, as it
 * arrives. `stop` reads what is left and resolves once the last chunk is in.
 */
export function followJobLog(
  path: string,
  sink: LogSink,
): { catchUp(): Promise<void>; stop(): Promise<void> } {
  let position = 0;
  let stopped = false;
  const readFile = async (): Promise<void> => {
    let file;
    try {
      file = await open(path, 'r');
    } catch {
      return; // Not created yet: the job has not started.
    }
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        sink.write(buffer.subarray(0, bytesRead), 'job');
      }
    } finally {
      await file.close();
    }
  };
  // One read at a time: two overlapping reads would copy the same bytes twice.
  let reading = Promise.resolve();
  const readNew = (): Promise<void> => (reading = reading.then(readFile));
  const loop = (async () => {
    while (!stopped) {
      await readNew();
      await delay(FOLLOW_MS);
    }
  })();
  return {
    /** Resolves once everything the job has written so far is in the sink. */
    catchUp: readNew,
    async stop() {
      stopped = true;
      await loop;
      await readNew();
      sink.flush();
    },
  };
}
