/** jest globalTeardown: stop the redis-server that globalSetup (redis-server.ts) started, if any. */
import type { RedisServer } from './redis-server.js'; // a type only: jest requires this file unmapped

export default async function globalTeardown(): Promise<void> {
  const started = Symbol.for('portcullis.test.redis-server');
  const holder = globalThis as { [started]?: RedisServer };
  await holder[started]?.stop();
  delete holder[started];
}
