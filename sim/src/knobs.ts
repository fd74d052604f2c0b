import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { type Faults, NO_FAULTS, parseFaults } from './faults.js';
import { DEFAULT_VERSION, parseVersion } from './versions.js';

// The simulator's own settings. Each is an environment variable; VLLM_SIM_CONFIG may name a
// JSON or YAML file with the same keys (`VLLM_SIM_TTFT_MS` or just `ttft_ms`). The environment
// wins over the file. Bad values stop the simulator at start with exit status 2.

export interface Knobs {
  readonly version: string;
  readonly loadTimeS: number;
  readonly ttftMs: number;
  readonly tokenLatencyMs: number;
  readonly accuracy: number;
  readonly answerKey: string | null;
  readonly replay: string | null;
  readonly faults: Faults;
  readonly seed: number;
  /** Target length of a generated chain of thought; null = 40–80 tokens, varying per question. */
  readonly reasoningTokens: number | null;
  readonly answerTokens: number;
  /** Whether the simulated model thinks (Qwen3-style `<think>` block) unless the request turns it off. */
  readonly thinking: boolean;
  /** The model's own context limit, i.e. vLLM's "derived max_model_len" (Qwen3-8B: 40960). */
  readonly maxPositionEmbeddings: number;
}

export class KnobError extends Error {}

type Parser<T> = (text: string) => T;

function number(min: number, max = Infinity, integer = false): Parser<number> {
  return (text) => {
    const n = Number(text);
    if (
      text.trim() === '' ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    ) {
      const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
      throw new Error(`expected ${integer ? 'an integer' : 'a number'} ${range}`);
    }
    return n;
  };
}

const existingPath: Parser<string> = (text) => {
  if (!existsSync(text)) throw new Error('no such file or directory');
  return text;
};

const boolean: Parser<boolean> = (text) => {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new Error('expected 1/0, true/false, yes/no or on/off');
};

const version: Parser<string> = (text) => {
  if (!parseVersion(text))
    throw new Error('expected a version like 0.8.5, 0.10.1.post1 or 0.10.2.dev378+g4d7fe40fc');
  return text;
};

interface Spec<T> {
  readonly parse: Parser<T>;
  readonly fallback: T;
}

function spec<T>(parse: Parser<T>, fallback: T): Spec<T> {
  return { parse, fallback };
}

const SPECS = {
  VLLM_SIM_VERSION: spec(version, DEFAULT_VERSION),
  VLLM_SIM_LOAD_TIME: spec(number(0), 3),
  VLLM_SIM_TTFT_MS: spec(number(0), 50),
  VLLM_SIM_TOKEN_LATENCY_MS: spec(number(0), 5),
  VLLM_SIM_ACCURACY: spec(number(0, 1), 0.8),
  VLLM_SIM_ANSWER_KEY: spec<string | null>(existingPath, null),
  VLLM_SIM_REPLAY: spec<string | null>(existingPath, null),
  VLLM_SIM_FAULT: spec(parseFaults, NO_FAULTS),
  VLLM_SIM_SEED: spec(number(0, Number.MAX_SAFE_INTEGER, true), 0),
  VLLM_SIM_REASONING_TOKENS: spec<number | null>(number(1, 100_000, true), null),
  VLLM_SIM_ANSWER_TOKENS: spec(number(1, 100_000, true), 20),
  VLLM_SIM_THINKING: spec(boolean, true),
  VLLM_SIM_MAX_POSITION_EMBEDDINGS: spec(number(1, 10_000_000, true), 40960),
} as const;

type KnobName = keyof typeof SPECS;
type KnobValue<K extends KnobName> = (typeof SPECS)[K] extends Spec<infer T> ? T : never;
const NAMES = Object.keys(SPECS) as KnobName[];
const CONFIG = 'VLLM_SIM_CONFIG';

function configKey(key: string): KnobName {
  const upper = key.toUpperCase().replace(/-/g, '_');
  const name = upper.startsWith('VLLM_SIM_') ? upper : `VLLM_SIM_${upper}`;
  if (!(NAMES as string[]).includes(name)) {
    throw new KnobError(
      `${CONFIG}: unknown key '${key}' (known: ${NAMES.map((n) => n.slice(9).toLowerCase()).join(', ')})`,
    );
  }
  return name as KnobName;
}

function configText(value: unknown): string {
  if (Array.isArray(value)) return value.map(configText).join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new KnobError(
    `${CONFIG}: values must be strings, numbers, booleans or lists, got ${JSON.stringify(value)}`,
  );
}

function readConfigFile(path: string): Map<KnobName, string> {
  let data: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both kinds of file.
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new KnobError(`${CONFIG}=${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return new Map();
  if (typeof data !== 'object' || Array.isArray(data))
    throw new KnobError(`${CONFIG}=${path}: expected a mapping of knobs`);
  return new Map(Object.entries(data).map(([k, v]) => [configKey(k), configText(v)]));
}

export function loadKnobs(env: NodeJS.ProcessEnv): Knobs {
  const configPath = env[CONFIG];
  const fromFile = configPath ? readConfigFile(configPath) : new Map<KnobName, string>();
  const get = <K extends KnobName>(name: K): KnobValue<K> => {
    const text = env[name] ?? fromFile.get(name);
    const { parse, fallback } = SPECS[name] as Spec<KnobValue<K>>;
    if (text === undefined || text === '') return fallback;
    try {
      return parse(text);
    } catch (err) {
      throw new KnobError(`invalid ${name}=${JSON.stringify(text)}: ${(err as Error).message}`);
    }
  };
  return {
    version: get('VLLM_SIM_VERSION'),
    loadTimeS: get('VLLM_SIM_LOAD_TIME'),
    ttftMs: get('VLLM_SIM_TTFT_MS'),
    tokenLatencyMs: get('VLLM_SIM_TOKEN_LATENCY_MS'),
    accuracy: get('VLLM_SIM_ACCURACY'),
    answerKey: get('VLLM_SIM_ANSWER_KEY'),
    replay: get('VLLM_SIM_REPLAY'),
    faults: get('VLLM_SIM_FAULT'),
    seed: get('VLLM_SIM_SEED'),
    reasoningTokens: get('VLLM_SIM_REASONING_TOKENS'),
    answerTokens: get('VLLM_SIM_ANSWER_TOKENS'),
    thinking: get('VLLM_SIM_THINKING'),
    maxPositionEmbeddings: get('VLLM_SIM_MAX_POSITION_EMBEDDINGS'),
  };
}
