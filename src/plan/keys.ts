import { z } from 'zod';

/** Unwrap optional/default/nullable wrappers, and a pipe to what it accepts, to the schema that holds the shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable)
      current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault)
      current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else return current;
  }
}

/** The schemas that may apply at `path` (several for a union). */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  let candidates: z.ZodType[] = [unwrap(schema)];
  for (const segment of path) {
    const next: z.ZodType[] = [];
    for (const candidate of candidates) {
      if (candidate instanceof z.ZodObject && typeof segment === 'string') {
        const child = (candidate.shape as Record<string, z.ZodType>)[segment];
        if (child) next.push(unwrap(child));
      } else if (candidate instanceof z.ZodArray && typeof segment === 'number') {
        next.push(unwrap(candidate.element as z.ZodType));
      } else if (candidate instanceof z.ZodRecord) {
        next.push(unwrap(candidate.valueType as z.ZodType));
      }
    }
    candidates = next.flatMap((c) =>
      c instanceof z.ZodUnion ? (c.options as z.ZodType[]).map(unwrap) : [c],
    );
  }
  return candidates;
}

/** The keys an object at `path` may have (the union of all variants for a union), for "did you mean" hints. */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const candidate of schemasAt(schema, path)) {
    if (candidate instanceof z.ZodObject) for (const key of Object.keys(candidate.shape)) keys.add(key);
  }
  return [...keys];
}

/**
 * True when the value at `path` is a string (or a string enum): `--set name=123` then means the text "123", and a
 * `${VAR}` there stays text. Elsewhere (numbers, booleans, durations) such texts are read as YAML reads them.
 */
export function expectsStringAt(schema: z.ZodType, path: readonly PropertyKey[]): boolean {
  const candidates = schemasAt(schema, path);
  return candidates.length > 0 && candidates.every((c) => c instanceof z.ZodString || c instanceof z.ZodEnum);
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/** The closest allowed key, when it is close enough to be a likely typo. */
export function suggestKey(unknown: string, allowed: readonly string[]): string | undefined {
  const normalized = unknown.replace(/-/g, '_').toLowerCase();
  let best: { key: string; distance: number } | undefined;
  for (const key of allowed) {
    const distance = editDistance(normalized, key);
    if (!best || distance < best.distance) best = { key, distance };
  }
  if (!best) return undefined;
  return best.distance <= Math.max(2, Math.floor(best.key.length / 4)) ? best.key : undefined;
}
