import { ExitCode, UserError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig compare <run-a> <run-b> [--json]

What changed from run A to run B, evaluation by evaluation (matched by name): the score overall and per subset,
samples, failed requests, truncated answers, latency p50 and p90, with B - A; then the samples whose verdict
flipped (matched by id), with both runs' extracted letters and the gold letter.

Options:
  --json  print the comparison as JSON (flipped samples with both answers' text)

Exit codes: 0 compared, 2 a folder is not a run folder or invalid arguments.`;

const OPTIONS = { json: { type: 'boolean' } } as const;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'compare two runs: scores, errors, latency, and the samples that flipped',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('compare', HELP, args, OPTIONS);
    const [runA, runB] = positionals;
    if (runA === undefined || runB === undefined || positionals.length > 2)
      throw new UserError(`evalrig compare: give two run folders\n\n${HELP}`);
    const { compareRuns, renderComparison } = await import('../report/compare.js');
    const comparison = compareRuns(runA, runB);
    console.log(values.json ? JSON.stringify(comparison, null, 2) : renderComparison(comparison));
    return ExitCode.ok;
  },
};
