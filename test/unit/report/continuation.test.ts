import { describe, expect, it } from 'vitest';
import { continuation, resumeNotes } from '../../../src/report/continuation.js';

const command = 'evalrig plan p.yaml --resume outputs/p/20260101-120000';

describe('how a run that ended early says how far it got', () => {
  it('says nothing once the run ended ok', () => {
    expect(continuation({ samples: { done: 3, total: 3 }, resume_command: null })).toBeNull();
    expect(resumeNotes({ eval_progress: [], resume_command: null })).toEqual([]);
  });

  it('counts samples only where evalrig knows them, and leaves the count out where it knows none', () => {
    expect(continuation({ samples: null, resume_command: command })).toBe(`To continue this run: ${command}`);
    expect(
      continuation(
        {
          samples: { done: 12, total: 40 },
          eval_progress: [
            { name: 'quiz', done: 12, total: 40, resume: 'a resume asks the other 28' },
            { name: 'es', done: 7, total: null, resume: 'EvalScope saved 7 answers: …' },
          ],
          resume_command: command,
        },
        (text) => `\`${text}\``,
      ),
    ).toBe(
      `12 of 40 samples done (of the evaluations whose samples evalrig knows). To continue this run: \`${command}\``,
    );
  });

  it('says per evaluation what a resume does', () => {
    expect(
      resumeNotes({
        eval_progress: [
          { name: 'quiz', done: 12, total: 40, resume: 'a resume asks the other 28' },
          { name: 'load', done: null, total: null, resume: 'a resume runs it again from its start' },
        ],
        resume_command: command,
      }),
    ).toEqual([
      'quiz: 12 of 40 samples done; a resume asks the other 28',
      'load: a resume runs it again from its start',
    ]);
  });
});
