import type { VersionRules } from './versions.js';

// Output in vLLM's shapes (docs/vllm-versions.md §6.2, §6.3):
//   vLLM logger -> stdout: `INFO 04-30 06:47:04 [api_server.py:1042] message`; every line of a
//     multi-line message repeats the header (vLLM's NewLineFormatter);
//   uvicorn's own lines -> stderr: `INFO:     Started server process [593]`;
//   uvicorn access lines -> stdout;
//   Python tracebacks -> stderr;
//   from 0.10.1 every line of a process, whatever the stream, starts `(APIServer pid=N) `.

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
/** A `[file.py:line]` logging call site. */
export type Site = readonly [file: string, line: number];

const UVICORN_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical'] as const;
export type UvicornLevel = (typeof UVICORN_LEVELS)[number];
export const UVICORN_LEVEL_NAMES: readonly string[] = UVICORN_LEVELS;

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** vLLM's `%m-%d %H:%M:%S`, local time. */
function stamp(d = new Date()): string {
  return `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

// Logs must not kill an orphaned process whose reader went away (vLLM ignores that too).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

export class ProcessLog {
  private uvicornThreshold = UVICORN_LEVELS.indexOf('info');

  constructor(readonly prefix: string) {}

  /** The prefix vLLM's decorate_logs gives a process, e.g. `(EngineCore_DP0 pid=42) `. */
  static named(rules: VersionRules, name: string, pid = process.pid): ProcessLog {
    return new ProcessLog(rules.processPrefixes ? `(${name} pid=${pid}) ` : '');
  }

  setUvicornLevel(level: UvicornLevel): void {
    this.uvicornThreshold = UVICORN_LEVELS.indexOf(level);
  }

  /** Raw text, one prefix per line. */
  write(stream: 'out' | 'err', text: string): void {
    const lines = text.replace(/\n$/, '').split('\n');
    (stream === 'out' ? process.stdout : process.stderr).write(
      lines.map((l) => `${this.prefix}${l}\n`).join(''),
    );
  }

  log(level: Level, site: Site, message: string): void {
    const head = `${level} ${stamp()} [${site[0]}:${site[1]}] `;
    this.write(
      'out',
      message
        .split('\n')
        .map((l) => head + l)
        .join('\n'),
    );
  }

  info(site: Site, message: string): void {
    this.log('INFO', site, message);
  }

  warning(site: Site, message: string): void {
    this.log('WARNING', site, message);
  }

  error(site: Site, message: string): void {
    this.log('ERROR', site, message);
  }

  /** A uvicorn logger line (`uvicorn.error` goes to stderr, `uvicorn.access` to stdout). */
  uvicorn(level: 'INFO' | 'WARNING' | 'ERROR', message: string, stream: 'out' | 'err' = 'err'): void {
    if (UVICORN_LEVELS.indexOf(level.toLowerCase() as UvicornLevel) < this.uvicornThreshold) return;
    this.write(stream, `${level}:${' '.repeat(8 - level.length)} ${message}`);
  }
}
