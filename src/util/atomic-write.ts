import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A temporary name beside `path`, unique across processes, hidden, and never taken for the real file. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
}

/** Temporary file then rename: a reader never sees half a file, and a crash leaves nothing under the real name. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temporary = temporaryPathFor(path);
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    // Renamed, the temporary name is gone; otherwise it must not stay behind.
    rmSync(temporary, { force: true });
    throw error;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
