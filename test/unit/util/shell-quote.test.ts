import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../../src/util/shell-quote.js';

/** What a real POSIX shell makes of the quoted words: one argument each, printed NUL-separated. */
function shellReadsBack(words: string[]): string[] {
  const script = `printf '%s\\0' ${words.map(shellQuote).join(' ')}`;
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it('leaves plain words bare and single-quotes the rest', () => {
    expect(shellQuote('plain/path-1.0')).toBe('plain/path-1.0');
    expect(shellQuote('key=value,a:b@c%d+e')).toBe('key=value,a:b@c%d+e');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
    expect(shellQuote("o'k")).toBe("'o'\\''k'");
    expect(shellQuote('')).toBe("''");
  });

  it('gives back every word unchanged through a real shell', () => {
    const words = [
      'plain',
      '',
      'two words',
      "it's",
      "''",
      '$HOME',
      '`id`',
      '$(echo no)',
      '"double"',
      'back\\slash',
      'new\nline',
      'tab\there',
      '*.json',
      '~/model',
      'a;b|c&d>e<f',
      '{"temperature": 0.7}',
      'ünïcödé',
    ];
    expect(shellReadsBack(words)).toEqual(words);
  });
});
