// How bad each exit code of `evalrig plan` is, for a job that runs several plans and reports one code.

/** Exit code meaning "a gate failed" (src/errors.ts keeps 3 free for it). */
export const GATE_FAILED = 3;

/** Worst last: success, a failed gate, a failure (run failed 1, invalid plan 2, preflight refused 4, …), a signal. */
function severity(code) {
  if (code === 0) return 0;
  if (code === GATE_FAILED) return 1;
  if (code >= 128) return 3;
  return 2;
}

/** The worst of the codes; among equally bad ones the first. 0 for none. */
export function worstExitCode(codes) {
  return codes.reduce((worst, code) => (severity(code) > severity(worst) ? code : worst), 0);
}

/** An interrupted run: a stop signal's code (128 + its number), as a shell reports it. */
export function isInterrupted(code) {
  return severity(code) === 3;
}
