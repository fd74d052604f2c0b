import { performance } from 'node:perf_hooks';

// The engine's scheduler, modelled the way vLLM's continuous batching behaves from outside:
// at most max_num_seqs sequences run at once, later ones wait in FIFO order; a running
// sequence's first token is due TTFT after it was scheduled (when it arrived, or when a slot
// freed for it), each further token one token latency later. One timer serves all sequences; a
// sequence whose tokens fell due together gets them in one callback (streams then carry a few
// tokens per chunk). Token k of a sequence is never released before its due time, so latency ≈
// queue wait + TTFT + (tokens − 1) × latency, however long the server took to read the request.

export type FinishReason = 'stop' | 'length' | 'abort';

export interface SequenceSpec {
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly finishReason: 'stop' | 'length';
  readonly tokenLatencyMs: number;
}

export interface SequenceListener {
  /** Tokens [0, emitted) are generated; `done` when that is all of them. */
  onTokens(emitted: number, done: boolean): void;
  /** The engine died with this sequence unfinished. */
  onEngineDead(): void;
}

export interface SequenceHandle {
  /** The client went away: drop the sequence (counted as finished_reason="abort"). */
  abort(): void;
}

export interface EngineStats {
  readonly running: number;
  readonly waiting: number;
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly finished: Readonly<Record<FinishReason, number>>;
  /** Fraction of the KV cache the running sequences hold. */
  readonly kvUsage: number;
}

interface Sequence {
  readonly spec: SequenceSpec;
  readonly listener: SequenceListener;
  /** When the request reached the scheduler: its TTFT counts from here, as the engine's from its arrival. */
  readonly arrivedAt: number;
  firstDue: number;
  emitted: number;
  prefilled: boolean;
}

/** Tokens due less than this apart are released together: Node's timers count whole milliseconds. */
const MIN_TICK_MS = 1;

export class Scheduler {
  private readonly waiting: Sequence[] = [];
  private readonly running = new Set<Sequence>();
  /** Cancels the pending tick; null when none is pending. */
  private cancelTick: (() => void) | null = null;
  private timerAt = Infinity;
  /** When a running sequence last gave up its slot (finished or aborted). */
  private freedAt = 0;
  private halted = false;
  private promptTokens = 0;
  private generationTokens = 0;
  private readonly finished: Record<FinishReason, number> = { stop: 0, length: 0, abort: 0 };

  constructor(
    private readonly maxNumSeqs: number,
    private readonly ttftMs: number,
    private readonly kvTokens: number,
  ) {}

  submit(spec: SequenceSpec, listener: SequenceListener): SequenceHandle {
    const seq: Sequence = {
      spec,
      listener,
      arrivedAt: performance.now(),
      firstDue: Infinity,
      emitted: 0,
      prefilled: false,
    };
    if (this.halted) {
      queueMicrotask(() => listener.onEngineDead());
      return { abort: () => undefined };
    }
    this.waiting.push(seq);
    this.soon();
    return { abort: () => this.abort(seq) };
  }

  stats(): EngineStats {
    let held = 0;
    for (const seq of this.running) held += (seq.prefilled ? seq.spec.promptTokens : 0) + seq.emitted;
    return {
      running: this.running.size,
      waiting: this.waiting.length,
      promptTokens: this.promptTokens,
      generationTokens: this.generationTokens,
      finished: { ...this.finished },
      kvUsage: this.kvTokens > 0 ? Math.min(1, held / this.kvTokens) : 0,
    };
  }

  /** Stops all progress at once (the engine is gone); failAll() then reports it. */
  halt(): void {
    this.halted = true;
    this.disarm();
  }

  /** Fails every unfinished sequence with onEngineDead(). */
  failAll(): void {
    this.halt();
    const victims = [...this.running, ...this.waiting];
    this.running.clear();
    this.waiting.length = 0;
    for (const seq of victims) seq.listener.onEngineDead();
  }

  private abort(seq: Sequence): void {
    const queued = this.waiting.indexOf(seq);
    if (queued >= 0) this.waiting.splice(queued, 1);
    else if (this.running.delete(seq)) this.freedAt = performance.now();
    else return;
    this.finished.abort++;
    this.soon();
  }

  /** Runs the scheduler on the next turn of the event loop (never inside a caller's stack). */
  private soon(): void {
    const now = performance.now();
    this.arm(now, now);
  }

  /** How many tokens of `seq` are due at `now`. */
  private due(seq: Sequence, now: number): number {
    if (now < seq.firstDue) return 0;
    const latency = seq.spec.tokenLatencyMs;
    if (latency <= 0) return seq.spec.outputTokens;
    return Math.min(seq.spec.outputTokens, 1 + Math.floor((now - seq.firstDue) / latency));
  }

  private tick(): void {
    if (this.halted) return;
    this.cancelTick = null;
    this.timerAt = Infinity;
    const now = performance.now();
    while (this.running.size < this.maxNumSeqs && this.waiting.length > 0) {
      const seq = this.waiting.shift() as Sequence;
      seq.firstDue = Math.max(seq.arrivedAt, this.freedAt) + this.ttftMs;
      this.running.add(seq);
    }
    for (const seq of this.running) {
      if (now < seq.firstDue) continue;
      if (!seq.prefilled) {
        seq.prefilled = true;
        this.promptTokens += seq.spec.promptTokens;
      }
      const due = this.due(seq, now);
      const done = due >= seq.spec.outputTokens;
      if (due === seq.emitted && !done) continue;
      this.generationTokens += due - seq.emitted;
      seq.emitted = due;
      if (done) {
        this.running.delete(seq);
        this.freedAt = now;
        this.finished[seq.spec.finishReason]++;
      }
      seq.listener.onTokens(due, done);
      if (this.halted) return;
    }
    if (this.running.size < this.maxNumSeqs && this.waiting.length > 0) {
      // Finished sequences freed slots: schedule the waiting ones now.
      this.arm(now, now);
      return;
    }
    let wake = Infinity;
    for (const seq of this.running) {
      const next =
        seq.emitted === 0
          ? seq.firstDue
          : Math.max(seq.firstDue + seq.emitted * seq.spec.tokenLatencyMs, now + MIN_TICK_MS);
      wake = Math.min(wake, next);
    }
    this.arm(wake, now);
  }

  private arm(at: number, now: number): void {
    if (at === Infinity || at >= this.timerAt) return;
    this.disarm();
    this.timerAt = at;
    // setTimeout(0) waits a whole millisecond; what is due now runs on the next turn instead.
    if (at <= now) {
      const immediate = setImmediate(() => this.tick());
      this.cancelTick = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.tick(), Math.ceil(at - now));
      this.cancelTick = () => clearTimeout(timer);
    }
  }

  private disarm(): void {
    this.cancelTick?.();
    this.cancelTick = null;
  }
}
