import type { Command } from './command.js';
import { planCommand } from './plan.js';
import { schemaCommand } from './schema.js';

/** Every sub-command, in the order `evalrig --help` lists them. */
export const commands: Command[] = [planCommand, schemaCommand];
