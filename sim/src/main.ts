#!/usr/bin/env node
import { AnswerBook, AnswerFileError } from './answers.js';
import { parseCommandLine } from './cli.js';
import { enableReasoningNeedsParserTraceback, invalidReasoningParserTraceback } from './fatal.js';
import { KnobError, type Knobs, loadKnobs } from './knobs.js';
import { ProcessLog } from './log.js';
import { ApiServerProcess } from './server.js';
import { rulesFor } from './versions.js';

// vllm-sim: a stand-in for the `vllm` CLI (`vllm serve MODEL [flags]`, `vllm --version`).

function exit(code: number, stdout = '', stderr = ''): never {
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  process.exit(code);
}

/** Knobs and answer files; a bad value stops the simulator with exit status 2. */
function settings(): { knobs: Knobs; book: AnswerBook } {
  try {
    const knobs = loadKnobs(process.env);
    return { knobs, book: new AnswerBook(knobs.answerKey, knobs.replay) };
  } catch (err) {
    if (err instanceof KnobError || err instanceof AnswerFileError) exit(2, '', `vllm-sim: ${err.message}\n`);
    throw err;
  }
}

function main(argv: readonly string[]): void {
  const { knobs, book } = settings();
  const rules = rulesFor(knobs.version);
  const command = parseCommandLine(argv, rules);
  if (command.kind === 'exit') exit(command.code, command.stdout, command.stderr);

  // Printed by `import vllm`, before any argument handling of `vllm serve` (vllm-versions §1.2).
  const bare = new ProcessLog('');
  bare.info(['__init__.py', 244], 'Automatically detected platform cuda.');

  // validate_parsed_serve_args runs before the server starts; its errors are plain tracebacks.
  const a = command.args;
  if (rules.enableReasoning === 'deprecated' && a.enableReasoning) {
    bare.warning(['arg_utils.py', 60], 'The parameter --enable-reasoning is deprecated.');
  }
  if (rules.enableReasoning === 'needs-parser' && a.enableReasoning && a.reasoningParser === null) {
    exit(1, '', `${enableReasoningNeedsParserTraceback()}\n`);
  }
  const parserChecked = rules.parserNeedsEnableFlag ? a.enableReasoning : true;
  if (parserChecked && a.reasoningParser !== null && !rules.reasoningParsers.includes(a.reasoningParser)) {
    exit(1, '', `${invalidReasoningParserTraceback(rules, a.reasoningParser)}\n`);
  }
  void new ApiServerProcess(command, knobs, rules, book).run();
}

main(process.argv.slice(2));
