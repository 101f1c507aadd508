#!/usr/bin/env node
// Entry point of the `foresight` command. The sources are TypeScript, loaded through tsx.
//
// `foresight run` acts on the desktop, so it runs under a supervisor (main/cli/supervisor.mjs):
// this process then only owns the kill switch (hotkey, SIGINT, SIGTERM) and starts this same
// script again as the agent, which the supervisor recognises by FORESIGHT_SUPERVISOR_PID.
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const supervisorPid = process.env.FORESIGHT_SUPERVISOR_PID;
// The supervisor died before setpriv armed the parent-death signal: this agent is an orphan.
if (supervisorPid !== undefined && supervisorPid !== String(process.ppid)) process.exit(130);
if (process.argv[2] === 'run' && (supervisorPid === undefined || process.send === undefined)) {
  const { supervise } = await import('../main/cli/supervisor.mjs');
  await supervise(fileURLToPath(import.meta.url), process.argv.slice(2));
}

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../main/cli/index.ts');
process.exitCode = await main(process.argv);
// Every command closes what it opened. Should a native addon or worker still hold the event
// loop, say so and exit anyway: a finished command must never hang (the tests look for this line).
setTimeout(() => {
  process.stderr.write('foresight: warning: handles were left open after the command finished; exiting\n');
  process.exit();
}, 3000).unref();
