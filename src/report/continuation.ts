import type { SampleProgress } from '../run/summary.js';

/**
 * For a run that ended early: how far it got and the command that continues it; null once it ended ok. `code`
 * sets the command apart where the text is rendered (Markdown).
 */
export function continuation(
  summary: { samples?: SampleProgress | null; resume_command: string | null },
  code: (command: string) => string = (command) => command,
): string | null {
  if (!summary.resume_command) return null;
  const done = summary.samples ? `${summary.samples.done} of ${summary.samples.total} samples done. ` : '';
  return `${done}To continue this run: ${code(summary.resume_command)}`;
}
