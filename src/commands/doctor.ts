import { UserError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig doctor [plan.yaml] [--json] [--nvidia-smi PATH] [--set PATH=VALUE]

Checks that this machine can run a plan, before anything starts: GPUs and driver, free GPU memory and the
processes holding it, vLLM, EvalScope and Python; with a plan also its model folder, weights, port and output disk.
Without a plan it checks the machine in general.

Options:
  --json             print the checks as JSON
  --nvidia-smi PATH  the nvidia-smi to run (default: nvidia-smi on PATH)
  --set PATH=VALUE   override a plan value, as for evalrig plan

Exit codes: 0 no errors (warnings allowed), 4 errors found (as evalrig plan's preflight), 2 invalid arguments or plan.`;

const OPTIONS = {
  json: { type: 'boolean' },
  'nvidia-smi': { type: 'string' },
  set: { type: 'string', multiple: true },
} as const;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check GPUs, driver, free GPU memory, vLLM and EvalScope before a run',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('doctor', HELP, args, OPTIONS);
    if (positionals.length > 1) throw new UserError(`evalrig doctor: give at most one plan file\n\n${HELP}`);
    const { runDoctor } = await import('../run/doctor.js');
    return runDoctor({
      ...(positionals[0] === undefined ? {} : { file: positionals[0] }),
      ...(values.set === undefined ? {} : { overrides: values.set }),
      ...(values['nvidia-smi'] === undefined ? {} : { nvidiaSmi: values['nvidia-smi'] }),
      json: values.json === true,
    });
  },
};
