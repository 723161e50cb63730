import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineError } from '../../src/core/errors.ts';
import { renderPoint } from '../../src/transforms/line-protocol.ts';
import type { RandomUser } from '../../src/transforms/randomuser-types.ts';
import { USER_FIELD_TYPES, USER_TAG_KEYS, userToPoint } from '../../src/transforms/user-point.ts';
import { type UserOrigin, userTimestampNs } from '../../src/transforms/user-message.ts';

// Hand-written users in the API 1.4 shape (not copied from any real response).
function user(over: Partial<RandomUser> = {}): RandomUser {
  return {
    gender: 'female',
    name: { title: 'Ms', first: 'Ada', last: 'Quill' },
    location: {
      street: { number: 12, name: 'Harbour Road' },
      city: 'Port Test',
      state: 'Testshire',
      country: 'Testland',
      postcode: 40513,
      coordinates: { latitude: '-12.3456', longitude: '145.0001' },
      timezone: { offset: '+5:30', description: 'Somewhere' },
    },
    email: 'ada.quill@example.com',
    login: {
      uuid: '00000000-0000-4000-8000-000000000001',
      username: 'bluecat123',
      password: 'secret',
      salt: 'salt',
      md5: 'm',
      sha1: 's1',
      sha256: 's256',
    },
    dob: { date: '1980-02-03T04:05:06.789Z', age: 46 },
    registered: { date: '2010-01-01T00:00:00.000Z', age: 16 },
    phone: '01-2345-6789',
    cell: '0412-345-678',
    id: { name: 'TFN', value: '123 456 789' },
    picture: { large: 'https://example.com/p/1.jpg', medium: 'https://example.com/p/m1.jpg', thumbnail: 'x' },
    nat: 'AU',
    ...over,
  };
}

const origin: UserOrigin = { fetchedAtMs: 1_763_000_000_123, seq: 4, index: 17 };
const opts = { measurement: 'users' };

describe('userToPoint', () => {
  it('maps a full user to low-cardinality tags and typed fields at its deterministic timestamp', () => {
    const p = userToPoint(user(), origin, opts);
    assert.equal(p.measurement, 'users');
    assert.deepEqual(p.tags, { gender: 'female', nat: 'AU', country: 'Testland', state: 'Testshire' });
    assert.equal(p.timestampNs, userTimestampNs(origin));
    assert.deepEqual(p.fields, {
      uuid: { type: 'string', value: '00000000-0000-4000-8000-000000000001' },
      email: { type: 'string', value: 'ada.quill@example.com' },
      username: { type: 'string', value: 'bluecat123' },
      title: { type: 'string', value: 'Ms' },
      first_name: { type: 'string', value: 'Ada' },
      last_name: { type: 'string', value: 'Quill' },
      street: { type: 'string', value: '12 Harbour Road' },
      city: { type: 'string', value: 'Port Test' },
      postcode: { type: 'string', value: '40513' },
      latitude: { type: 'float', value: -12.3456 },
      longitude: { type: 'float', value: 145.0001 },
      tz_offset: { type: 'string', value: '+5:30' },
      phone: { type: 'string', value: '01-2345-6789' },
      cell: { type: 'string', value: '0412-345-678' },
      dob: { type: 'string', value: '1980-02-03T04:05:06.789Z' },
      age: { type: 'integer', value: 46 },
      registered: { type: 'string', value: '2010-01-01T00:00:00.000Z' },
      registered_age: { type: 'integer', value: 16 },
      picture: { type: 'string', value: 'https://example.com/p/1.jpg' },
    });
    assert.deepEqual(Object.keys(p.tags), [...USER_TAG_KEYS]);
  });

  it('never carries credentials or the national id', () => {
    const line = renderPoint(userToPoint(user(), origin, opts));
    for (const secret of ['secret', 's256', '123 456 789', 'TFN']) assert.ok(!line.includes(secret), secret);
  });

  it('gives every field one type whatever the nationality (postcode always a string)', () => {
    const variants: RandomUser[] = [
      user(),
      user({ nat: 'CA', location: { ...user().location, postcode: 'Y3D 4T5' } }),
      user({ nat: 'GB', location: { ...user().location, postcode: 'FX42 7YJ' } }),
      user({ nat: 'NO', location: { ...user().location, postcode: '0550' } }),
      user({ nat: 'IR', id: { name: '', value: null } }),
    ];
    for (const u of variants) {
      const p = userToPoint(u, origin, opts);
      for (const [k, v] of Object.entries(p.fields)) {
        assert.equal(v.type, USER_FIELD_TYPES[k as keyof typeof USER_FIELD_TYPES], `${u.nat} ${k}`);
      }
    }
    assert.deepEqual(userToPoint(variants[3] as RandomUser, origin, opts).fields.postcode, { type: 'string', value: '0550' });
    assert.deepEqual(userToPoint(variants[1] as RandomUser, origin, opts).fields.postcode, { type: 'string', value: 'Y3D 4T5' });
  });

  it('omits missing keys (inc/exc) instead of failing or changing types', () => {
    const subset: RandomUser = {
      name: { title: 'Mrs', first: 'Jo', last: 'Ng' },
      email: 'jo@example.com',
      login: { uuid: '00000000-0000-4000-8000-000000000002', username: 'x' },
      nat: 'US',
    };
    const p = userToPoint(subset, origin, opts);
    assert.deepEqual(p.tags, { nat: 'US' });
    assert.deepEqual(Object.keys(p.fields).sort(), ['email', 'first_name', 'last_name', 'title', 'username', 'uuid']);
  });

  it('omits values of the wrong JSON type and coordinates that are not plain finite decimals', () => {
    const weird = user({
      gender: 7 as unknown as string,
      email: { x: 1 } as unknown as string,
      dob: { date: '1980-01-01', age: 'forty' as unknown as number },
      registered: { date: '2010-01-01', age: 12.5 },
      location: {
        ...user().location,
        state: '',
        coordinates: { latitude: '', longitude: '0x10' },
      },
    });
    const p = userToPoint(weird, origin, opts);
    assert.equal(p.tags.gender, undefined);
    assert.equal(p.tags.state, undefined);
    assert.equal(p.fields.email, undefined);
    assert.equal(p.fields.age, undefined);
    assert.equal(p.fields.registered_age, undefined);
    assert.equal(p.fields.latitude, undefined);
    assert.equal(p.fields.longitude, undefined);
    for (const bad of ['NaN', 'Infinity', '1e999', ' ', '12,5']) {
      const q = userToPoint(user({ location: { ...user().location, coordinates: { latitude: bad, longitude: '1.5' } } }), origin, opts);
      assert.equal(q.fields.latitude, undefined, bad);
      assert.deepEqual(q.fields.longitude, { type: 'float', value: 1.5 });
    }
    // Integral coordinates stay floats (the field's one type).
    const integral = userToPoint(user({ location: { ...user().location, coordinates: { latitude: '45', longitude: '-7' } } }), origin, opts);
    assert.deepEqual(integral.fields.latitude, { type: 'float', value: 45 });
  });

  it('refuses a user without login.uuid with INVALID_INPUT (dead-lettered, never retried)', () => {
    const cases: unknown[] = [{}, { login: {} }, { login: { uuid: '' } }, { login: { uuid: 42 } }, user({ login: undefined }), null, 'x', []];
    for (const u of cases) {
      assert.throws(
        () => userToPoint(u as RandomUser, origin, opts),
        (e: unknown) => e instanceof PipelineError && e.code === 'INVALID_INPUT' && !e.retryable,
        JSON.stringify(u),
      );
    }
  });

  it('is deterministic: the same user and origin give the identical line; another index another timestamp', () => {
    const a = renderPoint(userToPoint(user(), origin, opts));
    const b = renderPoint(userToPoint(user(), { ...origin }, opts));
    const c = renderPoint(userToPoint(user(), { ...origin, index: 18 }, opts));
    assert.equal(a, b);
    assert.notEqual(a.slice(a.lastIndexOf(' ')), c.slice(c.lastIndexOf(' ')));
  });

  it('renders a hostile user to exactly one line', () => {
    const h = user({
      name: { title: 'Dr\\', first: 'Ann "Nan"\nMarie', last: "O'Brien, Jr. = \\ 😀" },
      location: { ...user().location, city: 'New\r\nYork\\', state: 'Rhein\\', country: 'Côte d\'Ivoire, =' },
    });
    const line = renderPoint(userToPoint(h, origin, opts));
    assert.ok(!/[\r\n]/.test(line), line);
    assert.ok(line.includes('state=Rhein '), line); // trailing backslash dropped from the tag
    assert.ok(line.includes('country=Côte\\ d\'Ivoire\\,\\ \\='), line);
    assert.ok(line.includes('city="New York\\\\"'), line);
  });
});
