import { describe, expect, it } from 'vitest';
import { choiceLetter, choiceLetters, letterIndex, MAX_CHOICES } from '../../../src/datasets/letters.js';

describe('option letters', () => {
  it('run from A to Z and back', () => {
    expect(MAX_CHOICES).toBe(26);
    expect(choiceLetters(4)).toEqual(['A', 'B', 'C', 'D']);
    expect(choiceLetter(25)).toBe('Z');
    expect(letterIndex('Z')).toBe(25);
    expect(letterIndex('C')).toBe(2);
  });

  it('name a position past Z by its number, and know no letter but one upper-case A–Z', () => {
    expect(choiceLetter(26)).toBe('#26');
    expect(letterIndex('c')).toBe(-1);
    expect(letterIndex('AB')).toBe(-1);
    expect(letterIndex('')).toBe(-1);
  });
});
