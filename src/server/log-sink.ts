import { createWriteStream, type WriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * Collects a server's output: every line goes to server.log, the last lines stay in memory for error
 * messages, and listeners (the start-up progress display) see each line as it arrives.
 */
export class LogSink {
  private readonly tail: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();
  /** Per stream: an unfinished line, and a decoder so a UTF-8 character split across chunks survives. */
  private readonly streams = new Map<string, { partial: string; decoder: StringDecoder }>();
  private readonly file: WriteStream;
  private fileError: Error | undefined;

  constructor(
    path: string,
    private readonly tailSize = 400,
    private readonly mask: (line: string) => string = (line) => line,
  ) {
    this.file = createWriteStream(path, { flags: 'a' });
    // A full disk must not crash evalrig while vLLM runs: keep the tail in memory, report the loss once.
    this.file.on('error', (error) => {
      this.fileError ??= error;
    });
  }

  /** Why server.log could not be written, if it could not. */
  get writeError(): Error | undefined {
    return this.fileError;
  }

  /** Feed a chunk from one stream; lines are split per stream so stdout and stderr never mix mid-line. */
  write(chunk: Buffer | string, stream = 'stdout'): void {
    let state = this.streams.get(stream);
    if (!state) {
      state = { partial: '', decoder: new StringDecoder('utf8') };
      this.streams.set(stream, state);
    }
    const text = state.partial + (typeof chunk === 'string' ? chunk : state.decoder.write(chunk));
    const lines = text.split(/\r?\n/);
    state.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  /** Emit whatever is left without a trailing newline (the process ended mid-line). */
  flush(): void {
    for (const state of this.streams.values()) {
      const rest = state.partial + state.decoder.end();
      state.partial = '';
      if (rest) this.emit(rest);
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
    if (this.file.closed || this.file.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.file.end(resolve));
  }

  private emit(raw: string): void {
    const line = this.mask(raw);
    if (!this.fileError) this.file.write(line + '\n');
    this.tail.push(line);
    if (this.tail.length > this.tailSize) this.tail.splice(0, this.tail.length - this.tailSize);
    for (const listener of this.listeners) {
      try {
        listener(line);
      } catch {
        // A display problem must never break log collection or teardown.
      }
    }
  }
}
