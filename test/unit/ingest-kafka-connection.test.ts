import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { kafkaConnection, SASL_PASSWORD_ENV } from '../../src/cli/kafka-connection.ts';

const files: Record<string, string> = { '/secret': 's3cret\n', '/empty': '\n' };
const read = async (p: string): Promise<string> => {
  const t = files[p];
  if (t === undefined) throw new Error(`ENOENT: ${p}`);
  return t;
};

test('kafka connection: brokers and client id; no TLS, no SASL by default', async () => {
  const c = await kafkaConnection({ brokers: ['a:9092', 'b:9093'], clientId: 'me' }, {}, read);
  assert.deepEqual(c, { brokers: ['a:9092', 'b:9093'], clientId: 'me' });
});

test('kafka connection: --tls, and --tls-ca-file implies TLS with that CA', async () => {
  assert.equal((await kafkaConnection({ brokers: ['a:1'], tls: true }, {}, read)).tls, true);
  assert.deepEqual((await kafkaConnection({ brokers: ['a:1'], tlsCaFile: '/ca.pem' }, {}, read)).tls, { caFile: '/ca.pem' });
});

test('kafka connection: SASL password from the environment first, else the file (trailing newline dropped)', async () => {
  const base = { brokers: ['a:1'], saslMechanism: 'scram-sha-512', saslUsername: 'u', saslPasswordFile: '/secret' };
  assert.deepEqual((await kafkaConnection(base, { [SASL_PASSWORD_ENV]: 'fromenv' }, read)).sasl, {
    mechanism: 'SCRAM-SHA-512',
    username: 'u',
    password: 'fromenv',
  });
  assert.equal((await kafkaConnection(base, {}, read)).sasl?.password, 's3cret');
  assert.equal((await kafkaConnection({ ...base, saslMechanism: 'plain' }, {}, read)).sasl?.mechanism, 'PLAIN');
});

test('kafka connection: SASL mistakes are ConfigErrors naming the option', async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ saslUsername: 'u' }, /--sasl-username needs --sasl-mechanism/],
    [{ saslMechanism: 'plain' }, /needs --sasl-username/],
    [{ saslMechanism: 'plain', saslUsername: 'u' }, /USERPIPE_SASL_PASSWORD or --sasl-password-file/],
    [{ saslMechanism: 'plain', saslUsername: 'u', saslPasswordFile: '/missing' }, /cannot read \/missing/],
    [{ saslMechanism: 'plain', saslUsername: 'u', saslPasswordFile: '/empty' }, /is empty/],
    [{ saslMechanism: 'gssapi', saslUsername: 'u' }, /unknown mechanism/],
  ];
  for (const [values, message] of cases) {
    await assert.rejects(kafkaConnection({ brokers: ['a:1'], ...values }, {}, read), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, message);
      return true;
    });
  }
  await assert.rejects(kafkaConnection({ brokers: [] }, {}, read), /at least one broker/);
});
