import { z } from 'zod';

/**
 * Durations in the plan: seconds as a number (`90`, `0.5`), or a text with units (`"90s"`, `"10m"`, `"1h30m"`,
 * `"500ms"`). Either way the validated plan holds seconds, as a number.
 */

/** One or more `<number><unit>` parts, or a bare number of seconds written as text. */
export const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$|^\d+(?:\.\d+)?$/;

const DURATION_HELP =
  'write a duration as seconds (90) or as a text with units ms, s, m, h (e.g. "90s", "10m", "1h30m", "500ms")';

/** What field descriptions append, so the JSON Schema tells editors the forms. */
export const DURATION_FORMS = 'Seconds (90), or a text with units: "90s", "10m", "1h30m", "500ms"';

const SECONDS_PER_UNIT = { ms: 0.001, s: 1, m: 60, h: 3600 } as const;

/** Seconds in a duration that matches DURATION_PATTERN, or that is already a number of seconds. */
export function durationSeconds(value: number | string): number {
  if (typeof value === 'number') return value;
  if (!/[a-z]/.test(value)) return Number(value);
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    seconds += Number(amount) * SECONDS_PER_UNIT[unit as keyof typeof SECONDS_PER_UNIT];
  }
  return seconds;
}

/**
 * A duration field: accepts both forms, yields seconds. Give a default with `.prefault(seconds)`: `.default` after
 * a transform would leave it out of the JSON Schema.
 */
export const DurationSchema = z
  .union([z.number().positive(DURATION_HELP), z.string().regex(DURATION_PATTERN, DURATION_HELP)], {
    error: DURATION_HELP,
  })
  .transform(durationSeconds)
  .pipe(z.number().positive('a duration must be longer than 0'));
