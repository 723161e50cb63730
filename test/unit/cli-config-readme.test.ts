import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { allSpecs, COMMANDS } from '../../src/cli/commands.ts';
import { checkConfigKeys, loadConfigFile, resolveOptions } from '../../src/cli/config.ts';

/** The config example in the README is real: every command reads it, and a stage's section reaches run-all. */
test('README config example: valid for every command; stage sections apply in run-all', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(yaml, 'the README has a yaml example');
  const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
  try {
    const path = join(dir, 'userpipe.yaml');
    await writeFile(path, yaml);
    const file = loadConfigFile(path);
    checkConfigKeys(file, allSpecs());
    const resolved = new Map<string, Record<string, unknown>>();
    const fromFile = new Map<string, string[]>();
    for (const c of COMMANDS) {
      const specs = c.runAllFlags ? c.specs.map((s) => ({ ...s, flag: s.runAllFlag ?? s.flag, stageFlag: s.flag })) : c.specs;
      const r = resolveOptions({ command: c.name, specs, flags: {}, env: {}, file });
      resolved.set(c.name, r.values);
      fromFile.set(c.name, Object.keys(r.sources).filter((k) => r.sources[k] === 'file'));
    }
    const runAll = resolved.get('run-all') as Record<string, unknown>;
    for (const stage of ['fetch', 'ingest', 'archive', 'process']) {
      const own = resolved.get(stage) as Record<string, unknown>;
      const keys = fromFile.get(stage) ?? [];
      assert.ok(keys.length > 0, `${stage} reads something from the file`);
      for (const k of keys) assert.deepEqual(runAll[k], own[k], `run-all sees ${stage}'s ${k} as ${stage} does`);
    }
    assert.deepEqual(runAll.brokers, ['kafka-1:9092', 'kafka-2:9092']);
    assert.deepEqual((resolved.get('archive') as Record<string, unknown>).hdfsUrl, ['http://nn1:9870', 'http://nn2:9870']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a config file with a misspelt option is refused, naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
  try {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'brokerz: [a:1]\n');
    assert.throws(() => checkConfigKeys(loadConfigFile(path), allSpecs()), /unknown option "brokerz"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
