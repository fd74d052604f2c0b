import { UserError } from '../errors.js';
import type { ServerSpec } from '../plan/schema.js';
import type { ServePlan } from '../server/runtime.js';
import { compareVersions, parseVersion } from '../util/pep440.js';
import { renderVersionedServeFlags } from '../vllm/flags.js';

/**
 * The flags were rendered for the version found before start; the server's /version may say otherwise (a wrong
 * pin, an image tag that lies, another vLLM on PATH). That matters only when the two versions would get different
 * flags: then the run stops; otherwise it goes on with a note. Returns the note, or null when they agree.
 */
export function checkServedVersion(
  planned: ServerSpec,
  serve: ServePlan,
  reported: string | null,
): string | null {
  const detected = serve.version;
  const actual = reported === null ? null : parseVersion(reported);
  if (!detected || !actual || compareVersions(detected, actual) === 0) return null;
  const forActual = renderVersionedServeFlags({
    reasoningParser: planned.reasoning_parser,
    extraArgs: planned.extra_args,
    version: actual,
  });
  const rendered = [...serve.reasoningFlags, ...serve.server.extra_args];
  const same =
    forActual.errors.length === 0 &&
    forActual.flags.length === rendered.length &&
    forActual.flags.every((flag, i) => flag === rendered[i]);
  const what = `vLLM reports version ${actual.raw} at /version, but the flags were rendered for ${detected.raw} (${serve.versionSource})`;
  if (same)
    return `${what}; both get the same flags, so the run goes on. Fix server.vllm_version to silence this.`;
  throw new UserError(
    `${what}, and ${actual.raw} needs other flags (${forActual.flags.join(' ') || 'none'} instead of ${rendered.join(' ') || 'none'}). ` +
      'Fix server.vllm_version, or make server.executable point at the vLLM you mean to run.',
  );
}
