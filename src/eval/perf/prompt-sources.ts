import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../../errors.js';
import type { DatasetProvenance } from '../../datasets/types.js';
import type { PerfEvalSpec } from '../../plan/schema.js';
import type { PrepareContext } from '../evaluator.js';

/** The messages of one chat request, as a prompts file gives them (content may be a string or a list of parts). */
export type ChatMessages = readonly { role: string; content: unknown }[];

/** Prompts read before the server starts: a file's or a dataset's, each a whole message list. */
export interface FixedPrompts {
  messages: ChatMessages[];
  provenance: DatasetProvenance;
}

const MAX_LISTED_PROBLEMS = 10;

/** Why a prompts file line is unusable, or its messages. */
function parseLine(text: string): ChatMessages | string {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return 'expected an object {"prompt": "..."} or {"messages": [...]}';
  const { prompt, messages } = record as { prompt?: unknown; messages?: unknown };
  if (prompt !== undefined && messages !== undefined) return 'give "prompt" or "messages", not both';
  if (typeof prompt === 'string')
    return prompt.trim() === '' ? '"prompt" is empty' : [{ role: 'user', content: prompt }];
  if (prompt !== undefined) return '"prompt" must be a string';
  if (!Array.isArray(messages) || messages.length === 0)
    return 'expected "prompt" (a string) or "messages" (a non-empty list)';
  for (const [index, message] of messages.entries()) {
    const { role } = (message ?? {}) as { role?: unknown };
    if (
      typeof message !== 'object' ||
      message === null ||
      typeof role !== 'string' ||
      !('content' in message)
    )
      return `messages[${index}] must be an object with a "role" string and a "content"`;
  }
  return messages as ChatMessages;
}

/** A JSONL file of prompts; every bad line is listed with its line number, and none is skipped silently. */
export async function loadPromptFile(path: string): Promise<FixedPrompts> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UserError(`prompts file ${path} cannot be read (${code}): check prompts.file in the plan`);
  }
  const messages: ChatMessages[] = [];
  const problems: string[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((text, index) => {
      if (text.trim() === '') return;
      const parsed = parseLine(text);
      if (typeof parsed === 'string') problems.push(`${path}:${index + 1}: ${parsed}`);
      else messages.push(parsed);
    });
  if (problems.length > 0) {
    const more =
      problems.length > MAX_LISTED_PROBLEMS ? [`… and ${problems.length - MAX_LISTED_PROBLEMS} more`] : [];
    throw new UserError(
      `prompts file has ${problems.length} unusable line(s):\n${[...problems.slice(0, MAX_LISTED_PROBLEMS), ...more].join('\n')}`,
    );
  }
  if (messages.length === 0) throw new UserError(`prompts file ${path} holds no prompts`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    messages,
    provenance: { name: `prompts file ${path}`, files: [{ path, sha256, records: messages.length }] },
  };
}

/** The question texts of one of the plan's datasets, through the dataset registry. */
async function loadDatasetPrompts(
  prompts: PerfEvalSpec['prompts'],
  name: string,
  ctx: PrepareContext,
): Promise<FixedPrompts> {
  const dataset = prompts.dataset;
  if (dataset === undefined) throw new Error('loadDatasetPrompts needs prompts.dataset');
  const { datasetLoader } = await import('../../datasets/registry.js');
  const loaded = await datasetLoader(dataset).load(
    {
      name,
      dataset_path: prompts.dataset_path,
      subsets: prompts.subsets,
      limit: prompts.limit,
      mcq: prompts.mcq,
    },
    {
      baseDir: ctx.planDir,
      offline: ctx.datasets.offline,
      cacheDir: ctx.datasets.cache_dir,
      signal: ctx.signal,
    },
  );
  if (loaded.samples.length === 0)
    throw new UserError(`${name}: dataset ${dataset} gave no questions to use as prompts`);
  return {
    messages: loaded.samples.map((sample) => [{ role: 'user', content: sample.question }]),
    provenance: loaded.provenance,
  };
}

/** The plan's file or dataset prompts; null for random prompts, which need the server to be sized. */
export function loadFixedPrompts(spec: PerfEvalSpec, ctx: PrepareContext): Promise<FixedPrompts | null> {
  const { prompts } = spec;
  if (prompts.file !== undefined) return loadPromptFile(resolve(ctx.planDir, prompts.file));
  if (prompts.dataset !== undefined) return loadDatasetPrompts(prompts, spec.name, ctx);
  return Promise.resolve(null);
}
