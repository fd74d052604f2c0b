import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDisplay } from '../../../src/util/display.js';

/** A stream that claims to be a terminal, and what was written to it. */
function terminal() {
  const stream = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
  const chunks: string[] = [];
  (stream as unknown as PassThrough).on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('createDisplay', () => {
  it("prefixes each line with the variant's name and writes plain progress lines even in a terminal", async () => {
    const saved = process.env.CI;
    delete process.env.CI;
    try {
      const { stream, text } = terminal();
      const display = createDisplay(stream, { prefix: 'a', plain: true, startedAt: Date.now() - 5000 });
      display.info('run directory out/m/1/a');
      display.warn('slow');
      display.evalStart('quiz', 4);
      display.evalProgress(2, 1);
      display.evalEnd();
      display.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(text().split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(/^\[\s+5\.\ds\] \[a\] run directory out\/m\/1\/a$/),
        expect.stringMatching(/^\[\s+5\.\ds\] \[a\] warning: slow$/),
        expect.stringMatching(/^\[\s+5\.\ds\] \[a\] quiz: 4 samples$/),
        expect.stringMatching(/^\[\s+5\.\ds\] \[a\] quiz: 2\/4 done, accuracy so far 0\.500$/),
      ]);
    } finally {
      if (saved !== undefined) process.env.CI = saved;
    }
  });
});
