import { open } from 'node:fs/promises';
import { delay } from '../../util/delay.js';
import type { LogSink } from '../log-sink.js';

/** How often the job's output file is read for new lines. */
const FOLLOW_MS = 250;

/**
 * Copies what the job writes to its output file (on the cluster's shared file system) into the sink, as it
 * arrives. `stop` reads what is left and resolves once the last chunk is in.
 */
export function followJobLog(path: string, sink: LogSink): { stop(): Promise<void> } {
  let position = 0;
  let stopped = false;
  const readNew = async (): Promise<void> => {
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
  const loop = (async () => {
    while (!stopped) {
      await readNew();
      await delay(FOLLOW_MS);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await readNew();
      sink.flush();
    },
  };
}
