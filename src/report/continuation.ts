import type { EvalProgressSummary, SampleProgress } from '../run/summary.js';

interface EndedEarly {
  samples?: SampleProgress | null;
  eval_progress?: EvalProgressSummary[];
  resume_command: string | null;
}

/**
 * For a run that ended early: how far it got and the command that continues it; null once it ended ok. `code`
 * sets the command apart where the text is rendered (Markdown). The count covers only the evaluations whose
 * samples evalrig knows, and is left out when there are none.
 */
export function continuation(
  summary: EndedEarly,
  code: (command: string) => string = (command) => command,
): string | null {
  if (!summary.resume_command) return null;
  const { samples } = summary;
  const partly = summary.eval_progress?.some((evaluation) => evaluation.total === null) ?? false;
  const done = samples
    ? `${samples.done} of ${samples.total} samples done${partly ? ' (of the evaluations whose samples evalrig knows)' : ''}. `
    : '';
  return `${done}To continue this run: ${code(summary.resume_command)}`;
}

/** One line per evaluation of a run that ended early: how far it got and what a resume does with it. */
export function resumeNotes(summary: EndedEarly): string[] {
  if (!summary.resume_command) return [];
  return (summary.eval_progress ?? []).map(({ name, done, total, resume }) =>
    done !== null && total !== null
      ? `${name}: ${done} of ${total} samples done; ${resume}`
      : `${name}: ${resume}`,
  );
}
