import { ExitCode } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = 'Usage: evalrig schema > docs/plan.schema.json\n\nPrints the JSON Schema of the plan language.';

export const schemaCommand: Command = {
  name: 'schema',
  summary: "print the plan's JSON Schema (for editors: yaml-language-server)",
  help: HELP,
  async run(args) {
    const { values } = parseCommandArgs(
      'schema',
      HELP,
      args,
      { help: { type: 'boolean', short: 'h' } },
      false,
    );
    if (values.help) {
      console.log(HELP);
      return ExitCode.ok;
    }
    const { planJsonSchema } = await import('./plan-json-schema.js');
    console.log(JSON.stringify(planJsonSchema(), null, 2));
    return ExitCode.ok;
  },
};
