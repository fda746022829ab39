/**
 * What the fleet's state costs in Redis: every key under the run's prefix (on every master of a
 * cluster), sorted into the kinds portcullis and connect-redis write, with `MEMORY USAGE` (the
 * bytes Redis accounts for the key: key, value and overhead) and the TTL left.
 */
import { type AnyRedis, keysMatching } from '../../__tests__/helpers/redis-topology.js';

/** Kinds by the key after the run's prefix, most specific first. */
const KINDS: Array<[string, RegExp]> = [
  ['pending login (auth(), until the callback)', /^sess:portcullis-tx:/],
  ['back-channel index by sid', /^sess:portcullis-idx:sid:/],
  ['back-channel index by sub', /^sess:portcullis-idx:sub:/],
  ['rotation log (one per refresh)', /^sess:portcullisRotation:/],
  ['back-channel logout jti', /^sess:portcullis-jti:/],
  ['session (connect-redis)', /^sess:/],
  ['refresh lock', /^lock:/],
  ['service token lock', /^token:.*:lock$/],
  ['cached service token', /^token:/],
  ['DPoP proof seen', /^dpop-jti:/],
];

export interface KindUsage {
  kind: string;
  keys: number;
  bytes: number;
  /** Seconds left, the largest seen (the TTL it was written with, near enough). */
  ttl: number;
}

export async function memoryByKind(client: AnyRedis, prefix: string): Promise<KindUsage[]> {
  const usage = new Map<string, KindUsage>();
  const keys = await keysMatching(client, `${prefix}*`);
  for (let i = 0; i < keys.length; i += 200) {
    await Promise.all(
      keys.slice(i, i + 200).map(async (key) => {
        const [bytes, ttl] = await Promise.all([client.memoryUsage(key), client.ttl(key)]);
        const kind = KINDS.find(([, pattern]) => pattern.test(key.slice(prefix.length)))?.[0] ?? 'other';
        const entry = usage.get(kind) ?? { kind, keys: 0, bytes: 0, ttl: 0 };
        entry.keys++;
        entry.bytes += bytes ?? 0;
        entry.ttl = Math.max(entry.ttl, ttl);
        usage.set(kind, entry);
      }),
    );
  }
  return KINDS.map(([kind]) => usage.get(kind)).filter((u): u is KindUsage => u !== undefined);
}

/** Average bytes per key of a kind (0 when none was written). */
export function average(usage: KindUsage[], kind: string): number {
  const entry = usage.find((u) => u.kind.startsWith(kind));
  return entry === undefined || entry.keys === 0 ? 0 : Math.round(entry.bytes / entry.keys);
}
