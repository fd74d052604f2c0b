import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError } from '../../../src/errors.js';
import { trapStopSignals, type Interruption } from '../../../src/run/signals.js';

describe('trapStopSignals', () => {
  let trap: Interruption | undefined;
  afterEach(() => trap?.release());

  it('aborts on the first signal and runs every repeat action set on the next, until removed', () => {
    const first: string[] = [];
    trap = trapStopSignals((signal) => first.push(signal));
    const killed: string[] = [];
    const forgetA = trap.onRepeat(() => killed.push('a'));
    trap.onRepeat(() => killed.push('b'));
    process.emit('SIGINT', 'SIGINT');
    expect(first).toEqual(['SIGINT']);
    expect(trap.signal.reason).toBeInstanceOf(InterruptedError);
    expect(killed).toEqual([]);
    process.emit('SIGTERM', 'SIGTERM');
    expect(killed).toEqual(['a', 'b']);
    forgetA();
    process.emit('SIGINT', 'SIGINT');
    expect(killed).toEqual(['a', 'b', 'b']);
    expect(first).toEqual(['SIGINT']);
  });
});
