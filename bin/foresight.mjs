#!/usr/bin/env node
// Entry point of the `foresight` command. The sources are TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../main/cli/index.ts');
process.exitCode = await main(process.argv);
// Every command closes what it opened. Should a native addon or worker still hold the event
// loop, say so and exit anyway: a finished command must never hang (the tests look for this line).
setTimeout(() => {
  process.stderr.write('foresight: warning: handles were left open after the command finished; exiting\n');
  process.exit();
}, 3000).unref();
