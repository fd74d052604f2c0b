import cliProgress from 'cli-progress';

/**
 * What the user sees while a run goes on. In a terminal: a live status line and a progress bar.
 * In CI or a log file: plain timestamped lines, a progress line every 10 % (or 10 s), nothing overwritten.
 */
export interface RunDisplay {
  info(message: string): void;
  warn(message: string): void;
  /** A start-up phase from the vLLM log (display only). */
  phase(label: string): void;
  evalStart(name: string, total: number): void;
  evalProgress(done: number, correct: number): void;
  evalEnd(): void;
  close(): void;
}

/** Shows nothing: for an evaluation run where its figures are the output (the benchmarks, the tests). */
export const silentDisplay: RunDisplay = {
  info: () => undefined,
  warn: () => undefined,
  phase: () => undefined,
  evalStart: () => undefined,
  evalProgress: () => undefined,
  evalEnd: () => undefined,
  close: () => undefined,
};

export interface DisplayOptions {
  /** Before every line: the matrix variant a line belongs to, when several run at once. */
  prefix?: string;
  /** Plain lines even in a terminal: runs going on at once cannot share one live progress bar. */
  plain?: boolean;
  /** When the clock starts, so that the displays of one command show the same time. */
  startedAt?: number;
}

function clock(startedAt: number): string {
  return `[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s]`;
}

export function createDisplay(
  stream: NodeJS.WriteStream = process.stderr,
  options: DisplayOptions = {},
): RunDisplay {
  const startedAt = options.startedAt ?? Date.now();
  const interactive = Boolean(stream.isTTY) && !process.env.CI && !options.plain;
  const stamp = () => `${clock(startedAt)}${options.prefix ? ` [${options.prefix}]` : ''}`;
  let bar: cliProgress.SingleBar | undefined;
  let plain: { name: string; total: number; lastPct: number; lastAt: number } | undefined;
  let lastPhase = '';

  const line = (text: string) => {
    if (bar) bar.stop();
    bar = undefined;
    stream.write(`${stamp()} ${text}\n`);
  };

  return {
    info: (message) => line(message),
    warn: (message) => line(`warning: ${message}`),
    phase(label) {
      if (label === lastPhase) return;
      lastPhase = label;
      line(`vLLM start-up: ${label}`);
    },
    evalStart(name, total) {
      if (interactive) {
        bar = new cliProgress.SingleBar(
          {
            format: `${name} [{bar}] {value}/{total} | acc {acc} | {duration_formatted} elapsed, eta {eta_formatted}`,
            stream,
            hideCursor: true,
            clearOnComplete: false,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { acc: '-' });
      } else {
        plain = { name, total, lastPct: -1, lastAt: 0 };
        line(`${name}: ${total} samples`);
      }
    },
    evalProgress(done, correct) {
      const acc = done > 0 ? (correct / done).toFixed(3) : '-';
      if (bar) {
        bar.update(done, { acc });
        return;
      }
      if (!plain) return;
      const pct = Math.floor((done / Math.max(plain.total, 1)) * 10) * 10;
      const now = Date.now();
      if (pct > plain.lastPct || now - plain.lastAt > 10_000 || done === plain.total) {
        plain.lastPct = pct;
        plain.lastAt = now;
        stream.write(`${stamp()} ${plain.name}: ${done}/${plain.total} done, accuracy so far ${acc}\n`);
      }
    },
    evalEnd() {
      bar?.stop();
      bar = undefined;
      plain = undefined;
    },
    close() {
      bar?.stop();
      bar = undefined;
    },
  };
}
