/** Versions as Python packages publish them (PEP 440): vLLM, EvalScope and Python tools alike. */

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /**
   * Release segments after the patch, e.g. `[1]` for 0.10.1.1 (a real vLLM release); usually empty. Optional so
   * that a version written as a literal need not spell it out.
   */
  more?: readonly number[];
  /** The text it was read from, e.g. `0.10.2.dev378+g4d7fe40fc.d20250829`. */
  raw: string;
}

/**
 * PEP 440 as vLLM and EvalScope publish it: 0.8.5, 0.10.1.1, 0.8.5.post1, 0.11.0rc1,
 * 0.10.2.dev378+g4d7fe40fc.d20250829, 0.10.1+gptoss. The only version pattern in evalrig: whatever reads a
 * version goes through `parseVersion`.
 */
const VERSION_LINE =
  /^v?(\d+)\.(\d+)(?:\.(\d+))?((?:\.\d+)*)(?:[.-]?(?:post|dev|rc|a|b)\d*)*(?:\+[0-9A-Za-z.]+)?$/;

/**
 * Reads a version from a tool's `--version` output or from a Python one-liner. `import vllm` may log lines to stdout
 * before the version (vLLM issue #16724: `INFO 04-16 21:06:25 [__init__.py:243] No platform detected, …`), so the last line
 * that is a version wins.
 */
export function parseVersion(text: string): Version | null {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  for (const line of lines.reverse()) {
    const match = VERSION_LINE.exec(line);
    if (match) {
      const more = (match[4] ?? '').split('.').slice(1).map(Number);
      return {
        major: Number(match[1]),
        minor: Number(match[2]),
        patch: Number(match[3] ?? 0),
        ...(more.length > 0 ? { more } : {}),
        raw: line,
      };
    }
  }
  return null;
}

function releaseSegments(version: Version): number[] {
  return [version.major, version.minor, version.patch, ...(version.more ?? [])];
}

/**
 * Negative when a is older than b, 0 when the same release, positive when newer. Every release segment counts
 * (0.10.1.1 is newer than 0.10.1, and 0.10.1.0 is 0.10.1, as in PEP 440); suffixes are ignored.
 */
export function compareVersions(a: Version, b: Version): number {
  return compareSegments(releaseSegments(a), releaseSegments(b));
}

/** Dotted numbers such as a driver's `550.54.14` or CUDA's `12.4`, compared number by number, as above. */
export function compareDotted(a: string, b: string): number {
  return compareSegments(a.split('.').map(Number), b.split('.').map(Number));
}

function compareSegments(left: readonly number[], right: readonly number[]): number {
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** `0.9.2`, or `version unknown`: reads well after "vLLM ". */
export function formatVersion(version: Version | null): string {
  return version ? version.raw : 'version unknown';
}
