/**
 * Issue 6, must-show 4, shortened (full size: `node test/scenarios/process-influx-outage.ts`, 50,000 users and a
 * 60-s outage). Runs the same scenario script as its own process: InfluxDB (the stack's) is stopped while users
 * keep arriving, then started again; the process's RSS is sampled every second.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCENARIO = fileURLToPath(new URL('../scenarios/process-influx-outage.ts', import.meta.url));

function runScenario(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCENARIO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), 300_000); // the scenario restarts InfluxDB on SIGINT
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('process with InfluxDB stopped mid-run: every point exactly once, all committed, RSS under 200 MB', async () => {
  const users = 8000;
  const r = await runScenario(['--users', String(users), '--before', '3000', '--outage', '10']);
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const run = lines.find((l) => 'variant' in l);
  const context = `exit ${r.code}\n${r.stdout}\n${r.stderr.slice(-4000)}`;
  assert.ok(run, context);
  assert.deepEqual(run.checks, { allCommitted: true, exit0: true, exactlyAllPoints: true, oneLineEachWay: true, rssUnder200MB: true }, context);
  assert.equal(run.pointsAtEnd, users, context);
  assert.ok((run.rssSamples as number) >= 10, `RSS sampled through the run: ${context}`);
  assert.equal(r.code, 0, context);
});
