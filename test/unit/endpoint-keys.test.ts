/**
 * A planner and a grounder on endpoints with different API keys: `foresight run` takes each its
 * own (--api-key / --grounder-api-key and their environment variables), and a run started by the
 * app passes each endpoint's key in the agent's environment, never on its command line.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { endpointKeys } from '../../main/cli/index.ts';
import { EventHub } from '../../main/shell/events.ts';
import { RunManager } from '../../main/shell/runs.ts';

void describe('endpoint keys', () => {
  void it('the grounder takes its own key when given one, else the planner\'s; an empty one means none', () => {
    assert.deepEqual(endpointKeys({}, { FORESIGHT_API_KEY: 'sk-p' }), { planner: 'sk-p', grounder: 'sk-p' });
    assert.deepEqual(endpointKeys({ apiKey: 'sk-p' }, { FORESIGHT_GROUNDER_API_KEY: 'sk-g' }), { planner: 'sk-p', grounder: 'sk-g' });
    assert.deepEqual(endpointKeys({ apiKey: 'sk-p', grounderApiKey: 'sk-g2' }, { FORESIGHT_GROUNDER_API_KEY: 'sk-g' }), { planner: 'sk-p', grounder: 'sk-g2' });
    assert.deepEqual(endpointKeys({}, { FORESIGHT_API_KEY: 'sk-p', FORESIGHT_GROUNDER_API_KEY: '' }), { planner: 'sk-p' });
    assert.deepEqual(endpointKeys({}, {}), {});
  });

  void it('a run of the app: each endpoint\'s key in the agent\'s environment, none on its command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foresight-keys-'));
    try {
      // Stands in for bin/foresight.mjs: says what it was given, on stderr (the run's log), and ends.
      const bin = join(dir, 'agent.mjs');
      writeFileSync(bin, "process.stderr.write(JSON.stringify({ argv: process.argv.slice(2), planner: process.env.FORESIGHT_API_KEY ?? null, grounder: process.env.FORESIGHT_GROUNDER_API_KEY ?? null }) + '\\n');\n");
      const keys: Record<string, string | undefined> = { p: 'sk-planner', g: 'sk-grounder', none: undefined };
      const seen = async (planner: string, grounder: string) => {
        const runs = new RunManager({
          foresightBin: bin,
          dbPath: join(dir, 'e.db'),
          events: new EventHub(() => undefined),
          resolveModel: (choice) => {
            const id = choice.kind === 'endpoint' ? choice.endpointId : 'none';
            const apiKey = keys[id];
            return { spec: `openai:http://127.0.0.1:1/v1#${id}`, ...(apiKey ? { apiKey } : {}) };
          },
          killKey: () => 'ctrl+alt+k',
          env: { PATH: process.env.PATH, FORESIGHT_GROUNDER_API_KEY: 'inherited' },
        });
        runs.start({ task: 'check the keys', mode: 'never', planner: { kind: 'endpoint', endpointId: planner }, grounder: { kind: 'endpoint', endpointId: grounder } });
        for (let i = 0; i < 200 && runs.current()?.status !== 'ended'; i++) await new Promise((r) => setTimeout(r, 25));
        const line = runs.current()?.log.find((l) => l.startsWith('{"argv"'));
        assert.ok(line, `the agent's line in ${JSON.stringify(runs.current()?.log)}`);
        return JSON.parse(line) as { argv: string[]; planner: string | null; grounder: string | null };
      };
      const both = await seen('p', 'g');
      assert.equal(both.planner, 'sk-planner');
      assert.equal(both.grounder, 'sk-grounder');
      assert.ok(!both.argv.some((a) => a.includes('sk-')), 'no key on the command line');
      const plannerOnly = await seen('p', 'none');
      assert.equal(plannerOnly.planner, 'sk-planner');
      assert.equal(plannerOnly.grounder, '', 'the grounder gets no key, not the planner\'s or an inherited one');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
