import { cleanupCommand } from './cleanup.js';
import { Command } from './command.js';
import { compareCommand } from './compare.js';
import { doctorCommand } from './doctor.js';
import { historyCommand } from './history.js';
import { planCommand } from './plan.js';
import { reportCommand } from './report.js';
import { schemaCommand } from './schema.js';
import { validateCommand } from './validate.js';

/** Every sub-command, in the order `evalrig --help` lists them. */
export const commands: Command[] = [
  planCommand,
  validateCommand,
  reportCommand,
  compareCommand,
  historyCommand,
  schemaCommand,
  doctorCommand,
  cleanupCommand,
];
