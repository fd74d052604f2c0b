import { choiceLetters } from '../../datasets/letters.js';
import type { Sample } from '../../datasets/types.js';

/**
 * EvalScope's `CHINESE_SINGLE_ANSWER_TEMPLATE_COT`, the prompt its iquiz benchmark sends as the only
 * (user) message. Must stay byte-identical: scores are only comparable with EvalScope's if the model
 * sees exactly the same text. The golden test renders the reconstructed IQuiz records and compares
 * them with the prompts recorded in EvalScope's own review files.
 */
const CHINESE_SINGLE_ANSWER_TEMPLATE_COT =
  '回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式：' +
  '"答案：[LETTER]"（不带引号），其中 [LETTER] 是 {letters} 中的一个。请在回答前进行一步步思考。\n' +
  '\n' +
  '问题：{question}\n' +
  '选项：\n' +
  '{choices}\n';

export function renderPrompt(sample: Sample): string {
  const letters = choiceLetters(sample.choices.length);
  const choices = sample.choices.map((text, index) => `${letters[index]}) ${text}`).join('\n');
  // A replacer function, so `$&`-style patterns in question text are never interpreted.
  const fields: Record<string, string> = { letters: letters.join(','), question: sample.question, choices };
  return CHINESE_SINGLE_ANSWER_TEMPLATE_COT.replace(
    /\{(letters|question|choices)\}/g,
    (_, key: string) => fields[key] ?? '',
  );
}
