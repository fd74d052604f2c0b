#!/usr/bin/env node
import { ExitCode, UserError } from './errors.js';
import { commands } from './commands/index.js';

function usage(): string {
  const lines = commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return [
    'Usage: evalrig <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `evalrig <command> --help` for the options of one command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? ExitCode.ok : ExitCode.invalidInput;
  }
  if (name === '--version' || name === '-v') {
    const { evalrigVersion } = await import('./util/evalrig-version.js');
    console.log(evalrigVersion());
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`evalrig: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.invalidInput;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return ExitCode.ok;
  }
  return command.run(rest);
}

// A closed terminal (SSH dropped, `| head`) must not crash a run mid-teardown: drop the output instead.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UserError) {
      console.error(error.message);
      process.exitCode = error.exitCode;
    } else {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = ExitCode.runFailed;
    }
  },
);
