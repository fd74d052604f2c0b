import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../../src/plan/load.js';
import { prepareServe } from '../../../src/run/prepare.js';
import { useHostWorkspace } from '../host-workspace.js';

const { writePlan } = useHostWorkspace();

/** The notices of a plan's serve plan that speak of who can reach the server. */
async function reachNotices(name: string, server: string): Promise<string[]> {
  const serve = await prepareServe(loadPlan(writePlan(name, server)));
  return serve.notices.filter((notice) => /answer anyone/.test(notice));
}

describe('prepareServe: who can reach the server', () => {
  it('says nothing for a local server on the loopback address (the default)', async () => {
    expect(await reachNotices('loopback', 'executable: ./venv/bin/vllm\nmodel: ./models/tiny')).toEqual([]);
  });

  it("says so when the plan's server.host opens the server to other machines", async () => {
    const notices = await reachNotices(
      'open-host',
      'executable: ./venv/bin/vllm\nmodel: ./models/tiny\nhost: 0.0.0.0',
    );
    expect(notices).toEqual([
      expect.stringContaining('server.host is 0.0.0.0: vLLM is reachable from other machines'),
    ]);
  });

  it('says so for a Slurm job, which listens on every interface of its node whatever server.host says', async () => {
    const notices = await reachNotices(
      'slurm',
      'runtime: slurm\nmodel: /shared/models/tiny\nvllm_version: 0.10.1',
    );
    expect(notices).toEqual([
      expect.stringMatching(
        /^vLLM listens on 0\.0\.0\.0 \(the job runs on a node the scheduler picks.*who can reach the node\.$/,
      ),
    ]);
  });
});
