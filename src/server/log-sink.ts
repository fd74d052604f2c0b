import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * Collects a server's output: every line goes to server.log, the last lines stay in memory for error
 * messages, and listeners (the start-up progress display) see each line as it arrives.
 */
export class LogSink {
  private readonly tail: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();
  private readonly partial = new Map<string, string>();
  private readonly file: WriteStream;

  constructor(
    path: string,
    private readonly tailSize = 400,
    private readonly mask: (line: string) => string = (line) => line,
  ) {
    this.file = createWriteStream(path, { flags: 'a' });
  }

  /** Feed a chunk from one stream; lines are split per stream so stdout and stderr never mix mid-line. */
  write(chunk: Buffer | string, stream = 'stdout'): void {
    const text = (this.partial.get(stream) ?? '') + chunk.toString();
    const lines = text.split(/\r?\n/);
    this.partial.set(stream, lines.pop() ?? '');
    for (const line of lines) this.emit(line);
  }

  /** Emit whatever is left without a trailing newline (the process ended mid-line). */
  flush(): void {
    for (const [stream, rest] of this.partial) {
      if (rest) this.emit(rest);
      this.partial.set(stream, '');
    }
  }

  lines(count = 60): string[] {
    return this.tail.slice(-count);
  }

  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => this.file.end(resolve));
  }

  private emit(raw: string): void {
    const line = this.mask(raw);
    this.file.write(line + '\n');
    this.tail.push(line);
    if (this.tail.length > this.tailSize) this.tail.splice(0, this.tail.length - this.tailSize);
    for (const listener of this.listeners) listener(line);
  }
}
