import { isAbsolute, relative, sep } from 'node:path';
import { shellQuote } from '../../util/shell-quote.js';

/** The options of `evalrig plan` that decide what runs, as the user gave them. */
export interface PlanCommandLine {
  file: string;
  /** `--set path=value` overrides. */
  overrides?: string[];
  /** `--only NAME`: the evaluations to keep. */
  only?: string[];
  /** `--output-dir`: replaces output.dir everywhere, the preflight's disk check included. */
  outputDir?: string;
  skipPreflight: boolean;
}

/** A path as the user can paste it where they ran evalrig: relative below the working folder, else absolute. */
export function pastablePath(path: string): string {
  const below = relative(process.cwd(), path);
  return below === '' || below === '..' || below.startsWith(`..${sep}`) || isAbsolute(below) ? path : below;
}

/** `evalrig plan …` with the same plan and options; with `resumeDir`, the command that continues that run. */
export function planCommand(request: PlanCommandLine, resumeDir?: string): string {
  const words = ['evalrig', 'plan', request.file];
  if (request.outputDir !== undefined) words.push('--output-dir', request.outputDir);
  for (const override of request.overrides ?? []) words.push('--set', override);
  for (const name of request.only ?? []) words.push('--only', name);
  if (request.skipPreflight) words.push('--skip-preflight');
  if (resumeDir !== undefined) words.push('--resume', pastablePath(resumeDir));
  return words.map(shellQuote).join(' ');
}
