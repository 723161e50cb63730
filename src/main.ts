/**
 * The only file that touches argv, the environment, signals and exit codes (principle 4 and 6).
 * First SIGINT/SIGTERM: soft stop (drain, flush, commit). Second: hard abort. Commands decide their exit code.
 */
import './node-version.ts'; // first: refuses a too old Node before anything else runs
import { Lifecycle } from './core/lifecycle.ts';
import { startMemoryTrace } from './core/memory-trace.ts';
import { allSpecs, COMMANDS } from './cli/commands.ts';
import { EXIT } from './cli/context.ts';
import { buildProgram, usageExitCode } from './cli/program.ts';

async function main(): Promise<number> {
  startMemoryTrace(process.env, (line) => process.stderr.write(line));
  const lifecycle = new Lifecycle({ drainTimeoutMs: Infinity });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      process.stderr.write(`\nuserpipe: ${sig} received, stopping (drain, flush, commit); send again to abort\n`);
      lifecycle.softStop(sig);
    } else {
      process.stderr.write(`\nuserpipe: ${sig} received again, aborting\n`);
      lifecycle.hardAbort(sig);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that goes away (`userpipe --help | head -3`, `fetch --stdout | head -1`) is not a crash: sinks that
  // write stdout see the EPIPE on their own writes and stop; anything else just stops writing.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });

  let code: number = EXIT.OK;
  const program = buildProgram(
    COMMANDS,
    {
      argv: process.argv,
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
      isTTY: Boolean(process.stderr.isTTY),
      lifecycle,
      allSpecs: allSpecs(),
    },
    (c) => {
      code = c;
    },
  );
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    const usage = usageExitCode(err);
    if (usage !== undefined) return usage;
    throw err;
  }
  if (lifecycle.abort.aborted && code === EXIT.OK) return EXIT.INTERRUPTED;
  return code;
}

main().then(
  (code) => {
    // Let stdout drain (piped NDJSON) before exiting.
    process.exitCode = code;
    // A stdout whose reader went away (EPIPE: `| head -1`) never drains: exit at once then.
    if (process.stdout.writableNeedDrain && !process.stdout.destroyed) process.stdout.once('drain', () => process.exit(code));
    else setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`userpipe: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT.FAILED);
  },
);
