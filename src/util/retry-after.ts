/**
 * Retry-After in either form HTTP allows (RFC 9110 §10.2.3): delay seconds, or a date. Milliseconds from now, at
 * least 0; undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
