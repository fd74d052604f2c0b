/**
 * An evaluation gave up because request after request failed even after its retries: the server is down or hung,
 * and asking the remaining samples would only spend a time-out on each. What finished is on disk, so a resumed
 * evaluation asks only the rest.
 */
export class ServerUnresponsiveError extends Error {
  constructor(
    readonly consecutiveFailures: number,
    readonly lastError: string,
  ) {
    super(
      `vLLM stopped answering: ${consecutiveFailures} requests in a row failed after their retries (the last: ${lastError})`,
    );
    this.name = 'ServerUnresponsiveError';
  }
}
