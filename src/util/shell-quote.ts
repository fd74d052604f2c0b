/**
 * A word as a POSIX shell reads it back unchanged, for the commands evalrig shows people to paste (and the Slurm
 * job script). Plain words stay bare so the usual command reads easily; anything else goes in single quotes, inside
 * which nothing is special but the quote itself.
 */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
