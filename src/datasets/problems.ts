import { UserError } from '../errors.js';

/** A dataset that cannot be used as it is; the message is written for the person who runs evalrig. */
export class DatasetError extends UserError {
  constructor(message: string, exitCode?: number) {
    super(message, exitCode);
    this.name = 'DatasetError';
  }
}

/** How many problems an error message lists before it summarises the rest. */
const MAX_LISTED_PROBLEMS = 20;

/** `  - problem` lines, at most `max` of them, then `  … and N more`. */
export function formatDatasetProblems(problems: string[], max = MAX_LISTED_PROBLEMS): string {
  const listed = problems.slice(0, max).map((problem) => `  - ${problem}`);
  if (problems.length > max) listed.push(`  … and ${problems.length - max} more`);
  return listed.join('\n');
}
