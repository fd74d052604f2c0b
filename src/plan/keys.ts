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

/** The value at one step below `value`, when there is one. */
function childOf(value: unknown, segment: PropertyKey): unknown {
  return value !== null && typeof value === 'object'
    ? (value as Record<PropertyKey, unknown>)[segment]
    : undefined;
}

/** The literal a discriminated union's option has at its discriminator. */
function discriminatorValues(option: z.ZodType, discriminator: string): ReadonlySet<unknown> {
  const field =
    option instanceof z.ZodObject ? (option.shape as Record<string, z.ZodType>)[discriminator] : undefined;
  return field instanceof z.ZodLiteral ? field.values : new Set();
}

/**
 * A union's options; for a discriminated union whose value names one of them (`backend: evalscope`), that one
 * only, so that a key of another backend is not offered as a hint.
 */
function optionsFor(candidate: z.ZodType, value: unknown): z.ZodType[] {
  if (!(candidate instanceof z.ZodUnion)) return [candidate];
  const options = (candidate.options as z.ZodType[]).map(unwrap);
  if (!(candidate instanceof z.ZodDiscriminatedUnion)) return options;
  const chosen = childOf(value, candidate.def.discriminator);
  const picked = options.filter((option) =>
    discriminatorValues(option, candidate.def.discriminator).has(chosen),
  );
  return picked.length > 0 ? picked : options;
}

/** The schemas one step below `candidates` (unions not yet split into their options). */
function childSchemas(candidates: readonly z.ZodType[], segment: PropertyKey): z.ZodType[] {
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
  return next;
}

/** The schemas at `path` as declared (a union still whole), and the value there in `data`. */
function declaredAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  data: unknown,
): { schemas: z.ZodType[]; value: unknown } {
  let schemas = [unwrap(schema)];
  let value = data;
  for (const segment of path) {
    schemas = childSchemas(
      schemas.flatMap((candidate) => optionsFor(candidate, value)),
      segment,
    );
    value = childOf(value, segment);
  }
  return { schemas, value };
}

/** The schemas that may apply at `path`: several for a union, the chosen one where `data` picks an option. */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[], data?: unknown): z.ZodType[] {
  const { schemas, value } = declaredAt(schema, path, data);
  return schemas.flatMap((candidate) => optionsFor(candidate, value));
}

/**
 * The keys an object at `path` may have, for "did you mean" hints: of the option `data` picks where a
 * discriminated union chooses the shape, else of every option of a union.
 */
export function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[], data?: unknown): string[] {
  const keys = new Set<string>();
  for (const candidate of schemasAt(schema, path, data)) {
    if (candidate instanceof z.ZodObject) for (const key of Object.keys(candidate.shape)) keys.add(key);
  }
  return [...keys];
}

/**
 * Where the object at `path` is the option of a discriminated union that `data` picked, and `key` is not one of
 * its keys: the discriminator, the value picked, and the values whose options do take `key`.
 */
export function otherOptionsWithKey(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  data: unknown,
  key: string,
): { discriminator: string; chosen: string; values: string[] } | undefined {
  const { schemas, value } = declaredAt(schema, path, data);
  for (const candidate of schemas) {
    if (!(candidate instanceof z.ZodDiscriminatedUnion)) continue;
    const discriminator = candidate.def.discriminator;
    const chosen = childOf(value, discriminator);
    const values = (candidate.options as z.ZodType[])
      .map(unwrap)
      .filter((option) => option instanceof z.ZodObject && key in option.shape)
      .flatMap((option) => [...discriminatorValues(option, discriminator)].map(String));
    if (typeof chosen === 'string' && values.length > 0 && !values.includes(chosen))
      return { discriminator, chosen, values };
  }
  return undefined;
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
