import { ExitCode } from '../errors.js';
import { z } from 'zod';
import { PlanSchema } from '../plan/schema.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = 'Usage: evalrig schema > docs/plan.schema.json\n\nPrints the JSON Schema of the plan language.';

/** The plan's JSON Schema, generated from the same zod schema that validates plans (one source of truth). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://evalrig.dev/plan.schema.json',
    title: 'evalrig plan',
    ...z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' }),
  };
}

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
    console.log(JSON.stringify(planJsonSchema(), null, 2));
    return ExitCode.ok;
  },
};
