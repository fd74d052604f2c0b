import { cleanupCommand } from './cleanup.js';
import { Command } from './command.js';
import { doctorCommand } from './doctor.js';
import { planCommand } from './plan.js';
import { schemaCommand } from './schema.js';
import { validateCommand } from './validate.js';

/** Every sub-command, in the order `evalrig --help` lists them. */
export const commands: Command[] = [
  planCommand,
  validateCommand,
  schemaCommand,
  doctorCommand,
  cleanupCommand,
];
