import { z } from 'zod';

/**
 * Plan keys for a generic multiple-choice dataset read from local JSONL / CSV files.
 * The plan schema uses `McqDatasetOptionsSchema` for `mcq:`; `loadMcqDataset` parses with it too, so
 * programmatic callers get the same defaults and the same errors.
 */

const fieldName = z.string().min(1);

export const McqFieldMappingSchema = z
  .strictObject({
    question: fieldName.describe('Field (JSONL key or CSV column) holding the question text'),
    options: z
      .union([fieldName, z.array(fieldName).min(2)])
      .describe(
        'Either one field holding an array of option texts, or a list of fields, one per option, in the order A, B, C, …' +
          ' (trailing empty ones are dropped, so rows may have fewer options)',
      ),
    answer: fieldName.describe(
      'Field holding the gold answer: a letter ("B", "b", "(B)", "B." are all B), or an integer index into the options (see answer_index_base)',
    ),
    answer_index_base: z
      .union([z.literal(0), z.literal(1)])
      .default(0)
      .describe(
        'When the gold answer is a number: 0 means 0 is A (MMLU-style), 1 means 1 is A (MedMCQA-style)',
      ),
    id: fieldName
      .optional()
      .describe('Field holding a record id; default: the record position in its subset'),
  })
  .describe('layout mapped: which fields of a record hold the question, the options, the answer and the id');

export const McqDatasetOptionsSchema = z
  .strictObject({
    format: z
      .enum(['auto', 'jsonl', 'csv'])
      .default('auto')
      .describe('auto: by file extension (.jsonl / .csv); with a folder, which files of it are read'),
    layout: z
      .enum(['iquiz', 'general_mcq', 'mapped'])
      .default('iquiz')
      .describe(
        'iquiz: {question, choices[], answer}. general_mcq: EvalScope custom MCQ, columns id, question, A, B, C, …, answer' +
          ' in files named <subset>_<split>.csv|jsonl. mapped: any other layout, described by `fields`',
      ),
    fields: McqFieldMappingSchema.optional().describe('Required with layout mapped, not allowed otherwise'),
    subset_field: fieldName
      .optional()
      .describe(
        'Field that names the subset of each record; default: the file name without extension (and without _val etc. for general_mcq)',
      ),
    split: z
      .string()
      .regex(/^[A-Za-z0-9]+$/, 'use letters and digits only')
      .default('val')
      .describe(
        'general_mcq, reading a folder: read <subset>_<split> files only (EvalScope evaluates on val; dev holds few-shot examples)',
      ),
    strip_option_prefix: z
      .boolean()
      .default(false)
      .describe(
        'Remove letter prefixes such as "(A)", "A.", "A)", "A、", "（A）" from option texts (AGIEval options carry them)',
      ),
    shuffle: z
      .boolean()
      .default(false)
      .describe(
        'Shuffle the samples of each subset (before limit) with a seeded, machine-independent generator',
      ),
    shuffle_choices: z
      .boolean()
      .default(false)
      .describe(
        'Also shuffle the options of each sample (and each repeat differently), moving the gold letter with them',
      ),
    seed: z.int().min(0).default(0).describe('Seed for shuffle and shuffle_choices'),
    repeats: z
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe(
        'Ask each question this many times; ids become <id>#r<k> so accuracy can be averaged over repeats',
      ),
    on_bad_record: z
      .enum(['skip', 'fail'])
      .default('skip')
      .describe(
        'skip: report bad records (file:line and why) and go on; fail: stop with the list of problems',
      ),
  })
  .superRefine((options, ctx) => {
    if (options.layout === 'mapped' && !options.fields) {
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: 'layout mapped needs fields: {question, options, answer}',
      });
    }
    if (options.layout !== 'mapped' && options.fields) {
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: `fields only apply to layout mapped, not ${options.layout}`,
      });
    }
  })
  .describe('How to read a local multiple-choice dataset (JSONL or CSV files, or a folder of them)');

export type McqDatasetOptions = z.output<typeof McqDatasetOptionsSchema>;
export type McqDatasetOptionsInput = z.input<typeof McqDatasetOptionsSchema>;
