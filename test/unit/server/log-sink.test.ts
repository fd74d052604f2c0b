import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogSink } from '../../../src/server/log-sink.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'evalrig-io-'));

describe('LogSink', () => {
  it('keeps a UTF-8 character split across chunks, splits lines per stream, masks, and writes server.log', async () => {
    const file = join(tmp(), 'server.log');
    const sink = new LogSink(file, 3, (line) => line.replace('secret', '***'));
    const seen: string[] = [];
    sink.onLine((line) => seen.push(line));
    const bytes = Buffer.from('答案：B secret\nsecond');
    sink.write(bytes.subarray(0, 2), 'stdout'); // cuts 答 in half
    sink.write('err line\n', 'stderr');
    sink.write(bytes.subarray(2), 'stdout');
    sink.write('\nthird\nfourth', 'stdout');
    await sink.close();
    expect(seen).toEqual(['err line', '答案：B ***', 'second', 'third', 'fourth']);
    expect(sink.lines()).toEqual(['second', 'third', 'fourth']);
    expect(readFileSync(file, 'utf8')).toBe('err line\n答案：B ***\nsecond\nthird\nfourth\n');
  });

  it('survives an unwritable log file and a throwing listener', async () => {
    const sink = new LogSink(join(tmp(), 'missing-dir', 'server.log'));
    sink.onLine(() => {
      throw new Error('display broke');
    });
    sink.write('still collected\n');
    await new Promise((r) => setTimeout(r, 50));
    sink.write('and this\n');
    await sink.close();
    expect(sink.lines()).toEqual(['still collected', 'and this']);
    expect(sink.writeError?.message).toMatch(/ENOENT/);
  });
});
