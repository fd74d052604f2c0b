/**
 * A lower bound on a text's token count without the model's tokenizer: BPE vocabularies such as Qwen's spend at
 * most about four ASCII characters and about one and a half CJK characters per token. Being a lower bound, it can
 * only say that a request is certainly too long, never reject one that fits.
 */
export function estimateTokensAtLeast(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.charCodeAt(0) < 128) ascii += 1;
    else other += 1;
  }
  return Math.floor(ascii / 4 + other / 1.5);
}
