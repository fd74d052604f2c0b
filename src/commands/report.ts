import { ExitCode, UserError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig report <run-dir>

Writes report.md, report.html and junit.xml of a finished run again, and each native evaluation's
evals/<name>/evalscope/ folder (its results in EvalScope's layout), from the files in its folder (summary.json,
manifest.json, evals/<name>/predictions.jsonl and result.json); for a matrix folder, those of each variant and of
the matrix. Starts no server and uses no network. docs/report.md describes the files.

Exit codes: 0 written, 2 not a run folder or invalid arguments.`;

export const reportCommand: Command = {
  name: 'report',
  summary: "write a run's report.md, report.html and junit.xml again from its files",
  help: HELP,
  async run(args) {
    const { positionals } = parseCommandArgs('report', HELP, args, {});
    const [dir] = positionals;
    if (dir === undefined || positionals.length > 1)
      throw new UserError(`evalrig report: give one run folder\n\n${HELP}`);
    const { regenerateReports } = await import('../report/run-reports.js');
    for (const file of regenerateReports(dir)) console.log(file);
    return ExitCode.ok;
  },
};
