/**
 * The Redis that `npm test` runs against: the one at REDIS_URL if it answers, else a redis-server of
 * our own, stopped at the end; no redis-server at all is one clear error, not a cascade of TypeErrors.
 */
import { afterEach, expect, jest, test } from '@jest/globals';
import { connectRedis } from '../service/fixtures/redis.js';
import globalTeardown from './global-teardown.js';
import globalSetup, { answers, freePort, RedisMissingError, resolveRedis } from './redis-server.js';

const closedUrl = async () => `redis://127.0.0.1:${await freePort()}`;
const shared = process.env['REDIS_URL']!; // what the real globalSetup chose for this run

afterEach(() => {
  process.env['REDIS_URL'] = shared;
});

test('nothing answers at REDIS_URL: a redis-server of our own on a free port, stopped by its pid', async () => {
  const closed = await closedUrl();
  const { url, server } = await resolveRedis(closed);
  try {
    expect(url).not.toBe(closed);
    expect(server?.url).toBe(url);
    const client = await connectRedis(url);
    expect(await client.ping()).toBe('PONG');
    client.destroy();
  } finally {
    await server?.stop();
  }
  expect(await answers(url)).toBe(false);
  expect(() => process.kill(server!.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
});

test('a Redis that answers at REDIS_URL is used as it is, and nothing is started', async () => {
  expect(await resolveRedis(shared)).toEqual({ url: shared });
});

test('globalSetup hands its server to the workers through REDIS_URL; globalTeardown stops it', async () => {
  const closed = await closedUrl();
  process.env['REDIS_URL'] = closed;
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  let url = '';
  try {
    await globalSetup();
    url = process.env['REDIS_URL']!;
    expect(url).not.toBe(closed);
    expect(await answers(url)).toBe(true);
    expect(log.mock.calls.join('')).toMatch(
      `Nothing answers at ${closed}: started redis-server at ${url} (pid`,
    );
  } finally {
    log.mockRestore();
    await globalTeardown(); // also when an expectation failed: no redis-server left behind
  }
  expect(await answers(url)).toBe(false);
});

test('no redis-server installed: one error that says how to install it', async () => {
  const closed = await closedUrl();
  await expect(resolveRedis(closed, 'redis-server-not-installed')).rejects.toThrow(
    new RedisMissingError(
      `The tests need Redis: nothing answers at ${closed}, and redis-server-not-installed is not installed to start one of our own.\n` +
        'Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), ' +
        'or set REDIS_URL to a running Redis.',
    ),
  );
});

test('PORTCULLIS_TEST_REDIS=sentinel: globalSetup starts a Sentinel set for the run, globalTeardown stops it by pid', async () => {
  const saved = { ...process.env };
  process.env['PORTCULLIS_TEST_REDIS'] = 'sentinel';
  delete process.env['REDIS_SENTINELS'];
  let sentinels: string[] = [];
  try {
    await globalSetup(undefined, { rootDir: process.cwd() });
    sentinels = process.env['REDIS_SENTINELS']!.split(',');
    expect(sentinels).toHaveLength(3);
    expect(process.env['REDIS_SENTINEL_NAME']).toBe('portcullis-test');
    for (const address of sentinels) expect(await answers(`redis://${address}`)).toBe(true);
  } finally {
    await globalTeardown();
    for (const name of ['PORTCULLIS_TEST_REDIS', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
  for (const address of sentinels) expect(await answers(`redis://${address}`)).toBe(false);
}, 20_000);
