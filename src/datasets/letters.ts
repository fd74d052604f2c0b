/** The option letters, A to Z, in the order a question lists its options. */
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** The most options a question may have: one per letter. */
export const MAX_CHOICES = LETTERS.length;

/** `0 → 'A'`, `1 → 'B'`, …; past Z `#<index>`, which only a message about too many options shows. */
export function choiceLetter(index: number): string {
  return LETTERS[index] ?? `#${index}`;
}

/** The option letters of a question with this many choices: `['A', 'B', …]`. */
export function choiceLetters(choiceCount: number): string[] {
  return Array.from({ length: choiceCount }, (_, index) => choiceLetter(index));
}

/** `'A' → 0`, `'B' → 1`, …; -1 for anything that is not one upper-case letter. */
export function letterIndex(letter: string): number {
  return letter.length === 1 ? LETTERS.indexOf(letter) : -1;
}
