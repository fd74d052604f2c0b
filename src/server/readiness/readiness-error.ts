import type { FatalLine } from '../../vllm/fatal-lines.js';

export type ReadinessFailure = 'exited' | 'timeout' | 'wrong-server' | 'aborted';

/** Why the server never became ready, with the evidence: the log tail and the fatal line when there is one. */
export class ReadinessError extends Error {
  constructor(
    readonly kind: ReadinessFailure,
    message: string,
    readonly tail: string[],
    readonly fatal?: FatalLine,
  ) {
    super(message);
    this.name = 'ReadinessError';
  }
}
