import { afterAll, beforeAll, beforeEach, expect, test } from '@jest/globals';
import { type CachedToken, serviceAgent, type TokenCache } from '../../lib/index.js';
import { CLIENT_ID, CLIENT_SECRET, startTokenServer, type TokenServer } from '../helpers/token-server.js';

let tokens: TokenServer;
beforeAll(async () => {
  tokens = await startTokenServer();
});
beforeEach(() => {
  tokens.requests = 0;
});
afterAll(() => tokens.close());

const theirs = (): CachedToken => ({
  access_token: 'from-another-process',
  token_type: 'Bearer',
  issued_at: Date.now(),
  expires_at: Date.now() + 3600_000,
});

/** A cache whose every step is scripted, to replay the races of a fleet one by one. */
function scripted(overrides: Partial<TokenCache>): TokenCache {
  return {
    get: async () => undefined,
    set: async () => undefined,
    delete: async () => undefined,
    ...overrides,
  };
}

function agent(cache: TokenCache) {
  return serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    cache,
  });
}

test('the lock holder fetches; the others wait for its token instead of asking the IdP', async () => {
  let stored: CachedToken | undefined;
  let polls = 0;
  const cache = scripted({
    get: async () => {
      if (++polls === 3) stored = theirs(); // the holder finishes while we wait
      return stored;
    },
    lock: async () => undefined, // held by another process
  });
  const a = agent(cache);
  expect((await a.getToken()).access_token).toBe('from-another-process');
  expect(tokens.requests).toBe(0);
  await a.close();
});

test('a token stored between our first look and our lock is used, not fetched again', async () => {
  let stored: CachedToken | undefined;
  const cache = scripted({
    get: async () => stored,
    lock: async () => {
      stored = theirs(); // the previous holder stored its token and let go just before we locked
      return async () => undefined;
    },
  });
  const a = agent(cache);
  expect((await a.getToken()).access_token).toBe('from-another-process');
  expect(tokens.requests).toBe(0);
  await a.close();
});

test('closing while waiting for another process never starts a token request', async () => {
  const a = agent(scripted({ lock: async () => undefined }));
  const pending = a.getToken();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await a.close();
  await expect(pending).rejects.toMatchObject({ message: 'the service agent is closed' });
  expect(tokens.requests).toBe(0);
});

test('a lock holder that never delivers: the others fetch themselves after the lock lifetime', async () => {
  const a = serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    httpTimeout: 200, // the lock lifetime follows the token request timeout
    cache: scripted({ lock: async () => undefined }),
  });
  expect((await a.getToken()).access_token).toMatch(/^tok-/);
  expect(tokens.requests).toBe(1);
  await a.close();
});
