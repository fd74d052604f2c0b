import type { McqDatasetOptions } from '../../plan/dataset-options.js';
import type { Sample } from '../types.js';
import type { RawRecord } from './parse.js';
import { recordToQuestion } from './record.js';

export interface FileRecords {
  file: string;
  /** The subset named by the file, used when `subset_field` is not set. */
  subset: string;
  records: RawRecord[];
}

export interface BuiltSamples {
  samples: Sample[];
  /** Records that could not become samples, as `file:line: why`. */
  problems: string[];
  /** Every subset a record pointed at, valid or not, in the order first seen. */
  subsets: string[];
}

/**
 * Records of several files become samples, each bad one a problem. Ids are `<subset>-<record id>`, or
 * `<subset>-<position>` where records have no id. The position counts every record of the subset, bad ones too,
 * so fixing one bad record does not renumber the others; for IQuiz it is the 0-based line index, as in EvalScope.
 */
export function buildSamples(files: FileRecords[], options: McqDatasetOptions): BuiltSamples {
  const samples: Sample[] = [];
  const problems: string[] = [];
  const positions = new Map<string, number>();
  const firstSeenAt = new Map<string, string>();

  for (const { file, subset: fileSubset, records } of files) {
    for (const record of records) {
      const where = `${file}:${record.line}`;
      let subset = fileSubset;
      if (options.subset_field) {
        // The subset is inside the record, so an unreadable record belongs to none.
        if (!record.ok) {
          problems.push(`${where}: ${record.error}`);
          continue;
        }
        const value = record.fields[options.subset_field];
        if (typeof value !== 'number' && (typeof value !== 'string' || value.trim() === '')) {
          problems.push(`${where}: subset (field "${options.subset_field}") is missing or empty`);
          continue;
        }
        subset = String(value).trim();
      }
      const position = positions.get(subset) ?? 0;
      positions.set(subset, position + 1);

      if (!record.ok) {
        problems.push(`${where}: ${record.error}`);
        continue;
      }
      const parsed = recordToQuestion(record.fields, options);
      if (!parsed.ok) {
        problems.push(`${where}: ${parsed.error}`);
        continue;
      }
      const id = `${subset}-${parsed.recordId ?? position}`;
      const earlier = firstSeenAt.get(id);
      if (earlier) {
        problems.push(`${where}: duplicate id "${id}" (first at ${earlier})`);
        continue;
      }
      firstSeenAt.set(id, where);
      samples.push({
        id,
        subset,
        question: parsed.question,
        choices: parsed.choices,
        answer: parsed.answer,
        meta: parsed.meta,
      });
    }
  }
  return { samples, problems, subsets: [...positions.keys()] };
}
