import { z } from 'zod';
import { McqDatasetOptionsSchema } from './dataset-options.js';
import { DURATION_FORMS, DurationSchema } from './duration.js';
import { folderName } from './folder-name.js';

/**
 * `backend: perf`: the serving load test's settings. Kept apart from schema.ts so the perf evaluator and its docs
 * (docs/perf.md) share one definition.
 */

/** Where a perf evaluation's prompts come from: random words of exact lengths, a JSONL file, or a dataset. */
const PerfPromptsSchema = z
  .strictObject({
    input_tokens: z
      .int()
      .positive()
      .optional()
      .describe(
        "Random prompts: length in the server's tokens, chat template included (calibrated through POST /tokenize); default 256",
      ),
    output_tokens: z.int().positive().default(128).describe('max_tokens of every request'),
    range_ratio: z
      .number()
      .min(0)
      .lt(1)
      .default(0)
      .describe(
        "Lengths drawn uniformly from [L·(1−r), L·(1+r)], as vllm bench serve's --random-range-ratio (output lengths for file and dataset prompts)",
      ),
    seed: z
      .int()
      .default(0)
      .describe('Seeds the lengths, the random words, and the order of file and dataset prompts'),
    file: z
      .string()
      .optional()
      .describe(
        'A JSONL file (relative to the plan), one {"prompt": "..."} or {"messages": [...]} per line, used in a seeded order',
      ),
    dataset: z
      .enum(['iquiz', 'mcq'])
      .optional()
      .describe("One of the plan's datasets: its question texts as prompts, in a seeded order"),
    dataset_path: z.string().optional().describe("With dataset: as an evaluation's dataset_path"),
    subsets: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('With dataset: the subsets to take questions from'),
    limit: z.int().positive().optional().describe('With dataset: at most this many questions per subset'),
    mcq: McqDatasetOptionsSchema.optional().describe('With dataset mcq: layout and field mapping'),
  })
  .superRefine((prompts, ctx) => {
    const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
    if (prompts.file !== undefined && prompts.dataset !== undefined)
      issue('dataset', 'prompts take either file or dataset, not both');
    if ((prompts.file !== undefined || prompts.dataset !== undefined) && prompts.input_tokens !== undefined)
      issue(
        'input_tokens',
        'input_tokens sizes random prompts; file and dataset prompts keep their own length',
      );
    const datasetOnly = ['dataset_path', 'subsets', 'limit', 'mcq'] as const;
    for (const key of datasetOnly) {
      if (prompts.dataset === undefined && prompts[key] !== undefined)
        issue(key, `${key} belongs with dataset (prompts: {dataset: iquiz, ${key}: ...})`);
    }
    if (prompts.dataset === 'mcq' && prompts.dataset_path === undefined)
      issue('dataset', 'dataset mcq needs dataset_path (a .jsonl/.csv file or a folder)');
  });

/** A serving load test: the figures `vllm bench serve` reports, per concurrency level (docs/perf.md). */
export const PerfEvalSchema = z
  .strictObject({
    name: folderName,
    backend: z.literal('perf'),
    concurrency: z
      .union([z.int().positive(), z.array(z.int().positive()).min(1)])
      .default(1)
      .describe('Requests in flight at most; a list sweeps the levels in order'),
    requests: z
      .int()
      .positive()
      .optional()
      .describe('Measured requests per concurrency level (default 100); or give duration instead'),
    duration: DurationSchema.optional().describe(
      `Instead of requests: send requests for this long per level, then wait for those in flight. ${DURATION_FORMS}`,
    ),
    warmup: z.int().min(0).default(0).describe('Requests sent before each level and left out of its figures'),
    rate: z
      .union([z.number().positive(), z.literal('inf')])
      .default('inf')
      .describe(
        'Requests per second, arriving as a Poisson process; inf: all at once, held back only by concurrency',
      ),
    prompts: PerfPromptsSchema.prefault({}),
    ignore_eos: z
      .boolean()
      .default(true)
      .describe(
        'Generate max_tokens tokens whatever the model says (vLLM extension), for fixed-length outputs',
      ),
    timeout: DurationSchema.prefault(600).describe(
      `The longest one request may take; longer counts as a failure. ${DURATION_FORMS}`,
    ),
  })
  .superRefine((spec, ctx) => {
    if (spec.requests !== undefined && spec.duration !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: 'give either requests (a count per level) or duration (a time per level), not both',
      });
  });
