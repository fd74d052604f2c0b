/**
 * A failed `fetch` in words: its time limit, else the error with the code of its cause (`ECONNREFUSED`,
 * `ENOTFOUND`), which is what tells people whether the address, the network or the server is at fault.
 */
export function describeNetworkError(error: unknown, timeoutMs: number): string {
  // The limit ends the request with a TimeoutError, or with an AbortError once the body is being read.
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  if (!(error instanceof Error)) return `network error: ${String(error)}`;
  const cause = error.cause;
  const detail =
    cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : undefined;
  return `network error: ${error.message}${detail ? ` (${detail})` : ''}`;
}
