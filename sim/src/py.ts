// Python repr() of JSON-like values, for log lines and pydantic-style error messages.

/** repr() of a str. */
export function pyString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(new RegExp(quote, 'g'), `\\${quote}`);
  return `${quote}${body}${quote}`;
}

/** repr() of the value json.loads would give for `value`; arrays passed as tuples print as (…). */
export function pyRepr(value: unknown, tuple = false): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => pyRepr(v));
    if (!tuple) return `[${items.join(', ')}]`;
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${pyString(k)}: ${pyRepr(v)}`,
  );
  return `{${entries.join(', ')}}`;
}
