/**
 * The `foresight` command in-process, on the paths that need no display: arguments to options
 * (with the agent's defaults), usage errors (exit 2 with a message, as the README promises),
 * planner and grounder specs refused before anything is opened, and the episode commands
 * reading an episode the real loop recorded.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isForesightError } from '../../common/errors.ts';
import { DEFAULT_AGENT_CONFIG } from '../../main/agent/loop.ts';
import { buildProgram, main } from '../../main/cli/index.ts';
import { createGrounder } from '../../main/grounders/index.ts';
import { parseEndpointSpec } from '../../main/planners/endpoint-spec.ts';
import { createPlanner } from '../../main/planners/index.ts';
import { harness, tracer1 } from '../harness/agent-fakes.ts';

const dir = mkdtempSync(join(tmpdir(), 'foresight-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `foresight <args>` in this process and returns its exit code and what it wrote. Only
 * text is captured; anything else written meanwhile (the test runner's own reports) passes on.
 */
async function foresight(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const capture = (stream: NodeJS.WriteStream, key: 'stdout' | 'stderr') => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
      out[key] += chunk;
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  };
  const restoreOut = capture(process.stdout, 'stdout');
  const restoreErr = capture(process.stderr, 'stderr');
  try {
    const code = await main(['node', 'foresight', ...args]);
    return { code, ...out };
  } finally {
    restoreOut();
    restoreErr();
  }
}

test('run: the options a user gives, and the agent defaults for the rest', async () => {
  const program = buildProgram();
  const run = program.commands.find((c) => c.name() === 'run');
  assert.ok(run);
  const seen: Array<{ task: string; opts: Record<string, unknown> }> = [];
  run.action((task: string, opts: Record<string, unknown>) => {
    seen.push({ task, opts });
  });
  await program.parseAsync(['node', 'foresight', 'run', 'save the file', '--planner', 'script:plan.txt']);
  await program.parseAsync(
    ['run', 'rename it', '--planner', 'openai:http://127.0.0.1:8000/v1#qwen', '--grounder', 'none', '--approve', 'forecast', '--max-steps', '7', '--horizon', '3', '--retries', '0', '--settle-method', 'pixels', '--settle-min-ms', '0', '--on-worker-crash', 'fail', '--speculate', 'off', '--json'],
    { from: 'user' },
  );
  assert.equal(seen[0]?.task, 'save the file');
  assert.deepEqual(seen[0]?.opts, {
    planner: 'script:plan.txt',
    grounder: 'ocr:paddle',
    approve: DEFAULT_AGENT_CONFIG.approval,
    maxSteps: DEFAULT_AGENT_CONFIG.maxSteps,
    horizon: DEFAULT_AGENT_CONFIG.horizon,
    retries: DEFAULT_AGENT_CONFIG.maxParseRetries,
    timeout: 120_000,
    killKey: 'ctrl+alt+k',
    settleMethod: 'auto',
    gate: 'terminal',
    keepOut: [],
    onWorkerCrash: 'retry',
    speculate: 'on',
  });
  assert.deepEqual(seen[1]?.opts, {
    planner: 'openai:http://127.0.0.1:8000/v1#qwen',
    grounder: 'none',
    approve: 'forecast',
    maxSteps: 7,
    horizon: 3,
    retries: 0,
    timeout: 120_000,
    killKey: 'ctrl+alt+k',
    settleMethod: 'pixels',
    settleMinMs: 0,
    onWorkerCrash: 'fail',
    speculate: 'off',
    json: true,
    gate: 'terminal',
    keepOut: [],
  });
});

test('usage errors exit 2 and say what is wrong', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', 'save it'], /required option '--planner <spec>' not specified/],
    [['run', '--planner', 'script:plan.txt'], /missing required argument 'task'/],
    [['run', 'save it', '--planner', 'script:plan.txt', '--max-steps', '0'], /--max-steps must be a whole number ≥ 1/],
    [['run', 'save it', '--planner', 'script:plan.txt', '--on-worker-crash', 'ignore'], /option '--on-worker-crash <policy>' argument 'ignore' is invalid\. Allowed choices are retry, fail/],
    [['run', 'save it', '--planner', 'script:plan.txt', '--horizon', 'five'], /--horizon must be a whole number from 1 to 100/],
    [['run', 'save it', '--planner', 'script:plan.txt', '--approve', 'sometimes'], /'sometimes' is invalid\. Allowed choices are never, each, forecast/],
    [['run', 'save it', '--planner', 'script:plan.txt', '--frobnicate'], /unknown option '--frobnicate'/],
    [['run', 'save it', '--planner', 'script:plan.txt', '--speculate', 'maybe'], /'maybe' is invalid\. Allowed choices are on, off/],
    [['fly', 'to the moon'], /unknown command 'fly'/],
    [['episodes', 'list', '--limit', '-1'], /--limit must be a whole number ≥ 1/],
  ];
  for (const [args, message] of cases) {
    const res = await foresight(...args);
    assert.equal(res.code, 2, `foresight ${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, message, `foresight ${args.join(' ')}`);
  }
});

test('--help exits 0 and lists the commands', async () => {
  const res = await foresight('--help');
  assert.equal(res.code, 0);
  for (const command of ['run', 'episodes', 'bench', 'app']) assert.match(res.stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
});

test('a planner or grounder that cannot be made is a usage error, before any database is opened', async () => {
  const db = join(dir, 'never-opened.db');
  const cases: Array<[string[], RegExp]> = [
    [['--planner', 'gpt4'], /BAD_INPUT: Unknown planner "gpt4"\. Use openai:<baseURL>#<model>/],
    [['--planner', 'openai:http://127.0.0.1:8000/v1'], /BAD_INPUT: "openai:http:\/\/127\.0\.0\.1:8000\/v1" names no model/],
    [['--planner', 'openai:ftp://models#qwen'], /BAD_INPUT: "ftp:\/\/models" in .* is not an http\(s\) URL/],
    [['--planner', 'openai:http://127.0.0.1:8000/v1#qwen?format=florence'], /BAD_INPUT: Unknown planner format "florence"/],
    [['--planner', `script:${join(dir, 'missing-plan.txt')}`], /NOT_FOUND: Cannot read the script plan .*missing-plan\.txt/],
    [['--planner', 'openai:http://127.0.0.1:8000/v1#qwen', '--grounder', 'tesseract'], /BAD_INPUT: Unknown grounder "tesseract"\. Use one of: .*ocr:paddle.*onnx:<model-dir>.*som:<detector-dir>/],
    [['--planner', 'openai:http://127.0.0.1:8000/v1#qwen', '--grounder', 'openai:http://127.0.0.1:8001/v1#uitars?convention=yolo'], /BAD_INPUT: Unknown grounding convention "yolo"/],
  ];
  for (const [args, message] of cases) {
    const res = await foresight('run', 'save it', '--db', db, ...args);
    assert.equal(res.code, 2, `${args.join(' ')}: exit ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, message);
    assert.match(res.stderr, /^foresight: /);
  }
  assert.equal(existsSync(db), false, 'no database was created for a run that could not start');
});

test('a script plan that is not a TraceR1 answer is refused with what is wrong in it', async () => {
  const file = join(dir, 'not-a-plan.txt');
  writeFileSync(file, 'click the File menu, then Save');
  const res = await foresight('run', 'save it', '--db', join(dir, 'x.db'), '--planner', `script:${file}`);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /BAD_INPUT: The script plan .*not-a-plan\.txt is not a valid TraceR1 answer: /);
});

test('endpoint specs: base URL, model and options; each malformed form named in the error', () => {
  assert.deepEqual(parseEndpointSpec('openai:http://127.0.0.1:8000/v1/#qwen2.5-vl-7b?format=tracer1&temperature=0'), {
    baseURL: 'http://127.0.0.1:8000/v1',
    model: 'qwen2.5-vl-7b',
    options: { format: 'tracer1', temperature: '0' },
  });
  assert.deepEqual(parseEndpointSpec('openai:https://api.example.com/v1#org/model:latest'), {
    baseURL: 'https://api.example.com/v1',
    model: 'org/model:latest',
    options: {},
  });
  const refused: Array<[string, RegExp]> = [
    ['http://127.0.0.1:8000/v1#qwen', /is not an endpoint spec/],
    ['openai:http://127.0.0.1:8000/v1', /names no model: expected openai:<baseURL>#<model>/],
    ['openai:http://127.0.0.1:8000/v1#', /names no model after '#'/],
    ['openai:http://127.0.0.1:8000/v1#?format=tracer1', /names no model after '#'/],
    ['openai:127.0.0.1:8000#qwen', /is not an http\(s\) URL/],
    ['openai:#qwen', /"" in "openai:#qwen" is not an http\(s\) URL/],
  ];
  for (const [spec, message] of refused) {
    assert.throws(() => parseEndpointSpec(spec), (e) => isForesightError(e, 'BAD_INPUT') && message.test(e.message), spec);
  }
});

test('planner factory: the answer format follows the spec, then the model name', () => {
  assert.equal(createPlanner('openai:http://127.0.0.1:8000/v1#qwen3-vl').format, 'tracer1');
  assert.equal(createPlanner('openai:http://127.0.0.1:8000/v1#UI-TARS-1.5-7B').format, 'uitars-1.5');
  assert.equal(createPlanner('openai:http://127.0.0.1:8000/v1#ui-tars-7b?format=tracer1').format, 'tracer1');
  assert.equal(createPlanner('openai:http://127.0.0.1:8000/v1#qwen', { format: 'uitars-1.5' }).format, 'uitars-1.5');
  assert.throws(
    () => createPlanner('openai:http://127.0.0.1:8000/v1#ui-tars-7b?format=uitars-1.0'),
    (e) => isForesightError(e, 'BAD_INPUT') && /Live planning with uitars-1\.0 is not supported/.test(e.message),
  );
  const planner = createPlanner('openai:http://127.0.0.1:8000/v1#qwen');
  assert.equal(planner.id, 'openai:http://127.0.0.1:8000/v1#qwen');
});

test('grounder factory: bad conventions and pixel bounds in the spec are BAD_INPUT', () => {
  assert.equal(createGrounder('  none ').id, 'none');
  for (const spec of [
    'openai:http://127.0.0.1:8000/v1#ui-tars?convention=pixels',
    'openai:http://127.0.0.1:8000/v1#ui-tars?min_pixels=0',
    'openai:http://127.0.0.1:8000/v1#ui-tars?max_pixels=lots',
  ]) {
    assert.throws(() => createGrounder(spec), (e) => isForesightError(e, 'BAD_INPUT'), spec);
  }
});

test('episodes list and show read back an episode the loop recorded; an unknown id is a usage error', async () => {
  const h = harness({ planner: [tracer1({ action: { action_type: 'finished', answer: 'it is saved', step_instruction: 'saved' }, status: 'done' })] });
  const { outcome } = await h.run({ task: 'Is the report saved?' });
  const db = h.store.path;
  const list = await foresight('episodes', 'list', '--db', db, '--json');
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout) as Array<{ id: string; task: string; status: string; answer?: string }>;
  const mine = listed.find((e) => e.id === outcome.episodeId);
  assert.deepEqual([mine?.task, mine?.status, mine?.answer], ['Is the report saved?', 'finished', 'it is saved']);
  const show = await foresight('episodes', 'show', outcome.episodeId.slice(0, 8), '--db', db);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /Is the report saved\?/);
  assert.match(show.stdout, /it is saved/);
  const missing = await foresight('episodes', 'show', 'no-such-episode', '--db', db);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /foresight: NOT_FOUND: .*no-such-episode/);
});
