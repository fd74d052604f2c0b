import { hashUnit } from './hash.js';

// VLLM_SIM_FAULT grammar: a comma-separated list of
//   crash_on_load:cuda_oom | kv_cache | gpu_memory | port_in_use
//   crash_after:N                 the engine dies once N chat requests have completed
//   hang_after:N                  once N chat requests have completed, nothing is answered any more (wedged engine)
//   never_ready                   the load stalls during CUDA graph capture, the port never opens
//   http_error:STATUS@RATE        each chat request fails with STATUS with probability RATE (0..1]
//   http_error:STATUSxCOUNT       the next COUNT chat requests fail with STATUS
//   slow_tokens:F[@N]             per-token latency × F, for requests after the first N (default 0)
//   break_stream:RATE             a streamed answer is cut off halfway (the connection closes) with probability RATE
//   stall_stream:RATE             a streamed answer stops halfway and never ends, with probability RATE
//   ignore_sigterm                server and engine ignore SIGTERM/SIGINT; only SIGKILL ends them

const LOAD_CRASHES = ['cuda_oom', 'kv_cache', 'gpu_memory', 'port_in_use'] as const;
export type LoadCrash = (typeof LOAD_CRASHES)[number];

export interface HttpErrorRule {
  readonly status: number;
  /** Probability per request, or null for a burst. */
  readonly rate: number | null;
  /** Burst length, or null for a rate. */
  readonly count: number | null;
}

export interface SlowTokens {
  readonly factor: number;
  readonly afterRequests: number;
}

export interface Faults {
  readonly crashOnLoad: LoadCrash | null;
  readonly crashAfter: number | null;
  readonly hangAfter: number | null;
  readonly neverReady: boolean;
  readonly httpErrors: readonly HttpErrorRule[];
  readonly slowTokens: SlowTokens | null;
  readonly ignoreSigterm: boolean;
  /** Probability that a stream is cut off halfway. */
  readonly breakStream: number;
  /** Probability that a stream stops halfway without ending. */
  readonly stallStream: number;
}

export const NO_FAULTS: Faults = {
  crashOnLoad: null,
  crashAfter: null,
  hangAfter: null,
  neverReady: false,
  httpErrors: [],
  slowTokens: null,
  ignoreSigterm: false,
  breakStream: 0,
  stallStream: 0,
};

function isLoadCrash(text: string): text is LoadCrash {
  return (LOAD_CRASHES as readonly string[]).includes(text);
}

function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new Error(`${what} must be a positive integer, got '${text}'`);
  return Number(text);
}

function parseHttpError(arg: string): HttpErrorRule {
  const m = /^(\d{3})(?:@([0-9.]+)|x(\d+))$/.exec(arg);
  const status = Number(m?.[1]);
  if (!m || status < 400 || status > 599) {
    throw new Error(`http_error wants STATUS@RATE or STATUSxCOUNT with a 4xx/5xx STATUS, got '${arg}'`);
  }
  if (m[3] !== undefined) return { status, rate: null, count: positiveInt(m[3], 'http_error COUNT') };
  const rate = Number(m[2]);
  if (!(rate > 0 && rate <= 1)) throw new Error(`http_error RATE must be in (0, 1], got '${m[2]}'`);
  return { status, rate, count: null };
}

function parseRate(arg: string, what: string): number {
  const rate = Number(arg);
  if (!/^[0-9.]+$/.test(arg) || !(rate > 0 && rate <= 1))
    throw new Error(`${what} RATE must be in (0, 1], got '${arg}'`);
  return rate;
}

function parseSlowTokens(arg: string): SlowTokens {
  const m = /^([0-9.]+)(?:@(\d+))?$/.exec(arg);
  const factor = Number(m?.[1]);
  if (!m || !(factor > 0)) throw new Error(`slow_tokens wants F or F@N with F > 0, got '${arg}'`);
  return { factor, afterRequests: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Parses the fault list; throws an Error whose message says what is wrong. */
export function parseFaults(spec: string): Faults {
  const faults = { ...NO_FAULTS, httpErrors: [] as HttpErrorRule[] };
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name = '', arg] = item.split(/:(.*)/s, 2);
    const needArg = (): string => {
      if (!arg) throw new Error(`fault '${name}' needs an argument (${name}:…)`);
      return arg;
    };
    switch (name) {
      case 'crash_on_load': {
        const kind = needArg();
        if (!isLoadCrash(kind))
          throw new Error(`crash_on_load wants one of ${LOAD_CRASHES.join(', ')}, got '${kind}'`);
        faults.crashOnLoad = kind;
        break;
      }
      case 'crash_after':
        faults.crashAfter = positiveInt(needArg(), 'crash_after N');
        break;
      case 'hang_after':
        faults.hangAfter = positiveInt(needArg(), 'hang_after N');
        break;
      case 'http_error':
        faults.httpErrors.push(parseHttpError(needArg()));
        break;
      case 'slow_tokens':
        faults.slowTokens = parseSlowTokens(needArg());
        break;
      case 'break_stream':
        faults.breakStream = parseRate(needArg(), 'break_stream');
        break;
      case 'stall_stream':
        faults.stallStream = parseRate(needArg(), 'stall_stream');
        break;
      case 'never_ready':
      case 'ignore_sigterm':
        if (arg !== undefined) throw new Error(`fault '${name}' takes no argument`);
        if (name === 'never_ready') faults.neverReady = true;
        else faults.ignoreSigterm = true;
        break;
      default:
        throw new Error(`unknown fault '${name}'`);
    }
  }
  return faults;
}

/** Decides, per chat request, whether an http_error fault fires. Rules are tried in order. */
export class HttpErrorInjector {
  private readonly burstLeft: number[];
  private requests = 0;

  constructor(
    private readonly rules: readonly HttpErrorRule[],
    private readonly seed: number,
  ) {
    this.burstLeft = rules.map((r) => r.count ?? 0);
  }

  /** The status to fail the next request with, or null to serve it. */
  next(): number | null {
    const index = this.requests++;
    for (const [i, rule] of this.rules.entries()) {
      if (rule.rate !== null) {
        if (hashUnit('http_error', this.seed, i, index) < rule.rate) return rule.status;
      } else if ((this.burstLeft[i] ?? 0) > 0) {
        this.burstLeft[i] = (this.burstLeft[i] ?? 0) - 1;
        return rule.status;
      }
    }
    return null;
  }
}

export type StreamFault = 'break' | 'stall' | null;

/** Whether the streamed answer to chat request `index` is cut off or stalls halfway; seeded, so runs repeat. */
export function streamFaultFor(faults: Faults, seed: number, index: number): StreamFault {
  if (faults.breakStream > 0 && hashUnit('break_stream', seed, 0, index) < faults.breakStream) return 'break';
  if (faults.stallStream > 0 && hashUnit('stall_stream', seed, 0, index) < faults.stallStream) return 'stall';
  return null;
}
