import type { PerfEvalSpec } from '../../plan/schema.js';
import type { ChatMessages, FixedPrompts } from './prompt-sources.js';
import { calibratedPrompt, drawLength, reusedPrompt, mulberry32, type CountPromptTokens } from './prompts.js';

/** Prompts calibrated at once: enough to hide /tokenize's round trips, few enough not to load the server. */
const CALIBRATION_PARALLELISM = 8;
/** Random prompts calibrated for a timed level, per slot: reused in turn once the level has sent them all. */
const TIMED_POOL_PER_SLOT = 8;
const TIMED_POOL_MIN = 64;
const DEFAULT_INPUT_TOKENS = 256;

export interface BodySettings {
  spec: PerfEvalSpec;
  model: string;
  /** Seeded: the same plan sends the same prompts and lengths. */
  random: () => number;
  countTokens: CountPromptTokens;
  /** The plan's file or dataset prompts; null for random prompts. */
  fixed: FixedPrompts | null;
}

/**
 * The request bodies of a perf evaluation, level after level. Everything that asks the server (calibrating
 * random prompts) happens before a level's clock starts. File and dataset prompts go in a seeded order and
 * continue across levels, so that a later level does not repeat an earlier one's prompts while others are unused.
 */
export class RequestBodies {
  private readonly order: number[];
  private cursor = 0;

  constructor(private readonly settings: BodySettings) {
    const count = settings.fixed?.messages.length ?? 0;
    this.order = Array.from({ length: count }, (_, index) => index);
    // Fisher–Yates with the plan's seed.
    for (let i = this.order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(settings.random() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j] ?? j, this.order[i] ?? i];
    }
  }

  /** Bodies for `count` requests. */
  async counted(count: number): Promise<string[]> {
    return (await this.prompts(count)).map((messages) => this.body(messages));
  }

  /** Endless bodies for a level bounded by time: a pool prepared now, then reused in turn. */
  async endless(concurrency: number): Promise<Iterator<string>> {
    const size = this.settings.fixed
      ? this.order.length
      : Math.max(TIMED_POOL_MIN, concurrency * TIMED_POOL_PER_SLOT);
    const pool = await this.prompts(size);
    const random = this.settings.fixed === null;
    const next = (round: number, messages: ChatMessages): ChatMessages =>
      random ? messages.map((m) => ({ ...m, content: reusedPrompt(String(m.content), round) })) : messages;
    const body = (messages: ChatMessages) => this.body(messages);
    return (function* () {
      for (let round = 0; ; round += 1) for (const messages of pool) yield body(next(round, messages));
    })();
  }

  private body(messages: ChatMessages): string {
    const { spec, model, random } = this.settings;
    return JSON.stringify({
      model,
      messages,
      max_tokens: drawLength(random, spec.prompts.output_tokens, spec.prompts.range_ratio),
      ...(spec.ignore_eos && { ignore_eos: true }),
      stream: true,
      stream_options: { include_usage: true },
    });
  }

  private async prompts(count: number): Promise<ChatMessages[]> {
    const { fixed } = this.settings;
    if (fixed) {
      return Array.from({ length: count }, () => {
        const index = this.order[this.cursor++ % this.order.length] ?? 0;
        return fixed.messages[index] ?? [];
      });
    }
    return (await this.randomTexts(count)).map((text) => [{ role: 'user', content: text }]);
  }

  /** Random prompts of drawn lengths, calibrated a few at a time. */
  private async randomTexts(count: number): Promise<string[]> {
    const { spec, random, countTokens } = this.settings;
    const lengths = Array.from({ length: count }, () =>
      drawLength(random, randomInputTokens(spec), spec.prompts.range_ratio),
    );
    const seeds = lengths.map(() => Math.floor(random() * 2 ** 32));
    const texts: string[] = new Array<string>(count);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < count; index = next++) {
        texts[index] = await calibratedPrompt(
          mulberry32(seeds[index] ?? index),
          lengths[index] ?? 1,
          countTokens,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(CALIBRATION_PARALLELISM, count) }, worker));
    return texts;
  }
}

/** The input length random prompts are sized to. */
export function randomInputTokens(spec: PerfEvalSpec): number {
  return spec.prompts.input_tokens ?? DEFAULT_INPUT_TOKENS;
}
