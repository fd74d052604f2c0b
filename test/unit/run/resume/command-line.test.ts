import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pastablePath, planCommand } from '../../../../src/run/resume/command-line.js';

describe('the commands a run prints', () => {
  it('repeats the options that decide what runs, quoted only where a shell needs it', () => {
    const request = {
      file: 'configs/demo.yaml',
      overrides: ['evals[0].limit=10', 'server.served_model_name=my model'],
      only: ['quiz'],
      outputDir: 'out',
      skipPreflight: true,
    };
    expect(planCommand(request)).toBe(
      "evalrig plan configs/demo.yaml --output-dir out --set 'evals[0].limit=10' --set 'server.served_model_name=my model' --only quiz --skip-preflight",
    );
    expect(planCommand({ file: 'configs/demo.yaml', skipPreflight: false }, '/elsewhere/run')).toBe(
      'evalrig plan configs/demo.yaml --resume /elsewhere/run',
    );
  });

  it('gives a run directory below the working folder relative, any other absolute', () => {
    expect(pastablePath(join(process.cwd(), 'outputs/demo/20261201-101500'))).toBe(
      'outputs/demo/20261201-101500',
    );
    expect(pastablePath('/tmp/outputs/demo')).toBe('/tmp/outputs/demo');
  });
});
