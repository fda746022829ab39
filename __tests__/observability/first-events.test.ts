/**
 * The first events of a process come while `@opentelemetry/api` is still being imported (the agent
 * starts the import when it is created, and its first call misses the cache at once): they are
 * counted when the import is done, not lost. A file of its own, so that the import is fresh.
 */
import { afterAll, expect, test } from '@jest/globals';
import { serviceAgent } from '../../lib/index.js';
import { point, setUpTelemetry } from '../helpers/otel.js';
import { CLIENT_ID, CLIENT_SECRET, startTokenServer } from '../helpers/token-server.js';

const telemetry = setUpTelemetry();
afterAll(() => telemetry.shutdown());

test("the first call's cache miss is counted, as is its token request", async () => {
  const tokens = await startTokenServer();
  const agent = serviceAgent({
    tokenEndpoint: tokens.tokenEndpoint,
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  try {
    await agent.getToken();
    await agent.getToken();
    const miss = await point(telemetry, 'portcullis.agent.cache.lookups', {
      'portcullis.cache.result': 'miss',
    });
    expect(miss?.value).toBe(1);
    const hit = await point(telemetry, 'portcullis.agent.cache.lookups', {
      'portcullis.cache.result': 'hit',
    });
    expect(hit?.value).toBe(1);
    const requests = await point(telemetry, 'portcullis.agent.token.requests', {
      'portcullis.outcome': 'success',
    });
    expect(requests?.value).toBe(1);
  } finally {
    await agent.close();
    await tokens.close();
  }
});
