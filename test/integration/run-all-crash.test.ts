/**
 * Issue 7, must-show 3, shortened (full size: `node test/scenarios/run-all-crash.ts`, 30,000 users, 3 kills).
 * It once ended with 4,600 of 6,000 users in HDFS inside the suite: the archive tests' cleanup deleted all of
 * `/userpipe-test` while it ran (the same race failed the WebHDFS test in CI); each test now deletes its own root.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAllCrashScenario } from '../scenarios/run-all-crash.ts';

test('run-all killed with SIGKILL twice and restarted: HDFS holds each user once, InfluxDB one point per user', async () => {
  const f = await runAllCrashScenario({ users: 6000, kills: 2, results: 500 });
  assert.equal(f.finalExit, 0, JSON.stringify(f));
  assert.equal(f.tmpLeft, 0, JSON.stringify(f));
  assert.equal(f.hdfsDistinctUsers, f.users, JSON.stringify(f));
  assert.equal(f.hdfsLines, f.users, `each user exactly once in HDFS: ${JSON.stringify(f)}`);
  assert.equal(f.influxPoints, f.users, JSON.stringify(f));
  assert.equal(f.influxDistinctUuids, f.users, JSON.stringify(f));
});
