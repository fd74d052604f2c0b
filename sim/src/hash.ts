import { createHash, randomBytes } from 'node:crypto';

// Deterministic choices: every "random" decision the simulator makes about an answer is a hash
// of its inputs, so the same seed, question and request seed always give the same reply.

/** A number in [0, 1) derived from the parts. */
export function hashUnit(...parts: ReadonlyArray<string | number>): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** An integer in [0, n) derived from the parts. */
export function hashIndex(n: number, ...parts: ReadonlyArray<string | number>): number {
  return Math.floor(hashUnit(...parts) * n);
}

/** Random lower-case hex, for ids that vLLM draws from uuid4. */
export function randomHex(chars: number): string {
  return randomBytes(Math.ceil(chars / 2))
    .toString('hex')
    .slice(0, chars);
}
