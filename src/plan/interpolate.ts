/**
 * `${VAR}`, `${VAR:-default}` and `${VAR:?message}` in plan strings, from the environment (and a `.env` file
 * next to the plan, read with Node's util.parseEnv). `$${` escapes a literal `${`.
 */
const PATTERN = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g;

export interface InterpolationResult {
  value: string;
  /** Names of the variables read, so their values can be masked when they are secrets. */
  used: string[];
  errors: string[];
}

export function interpolate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): InterpolationResult {
  const used: string[] = [];
  const errors: string[] = [];
  const value = text.replace(
    PATTERN,
    (whole, escaped: string | undefined, name: string, op: string | undefined, arg: string | undefined) => {
      if (escaped) return whole.slice(1);
      used.push(name);
      const current = env[name];
      if (current !== undefined && current !== '') return current;
      if (op === ':-') return arg ?? '';
      if (op === ':?') {
        errors.push(
          `\${${name}} is not set: ${arg || 'set it in the environment or in .env next to the plan'}`,
        );
        return '';
      }
      if (current === undefined) {
        errors.push(
          `\${${name}} is not set (use \${${name}:-default} for a default, or set it in the environment or in .env next to the plan)`,
        );
      }
      return current ?? '';
    },
  );
  return { value, used, errors };
}
