/**
 * Redis for the test run. The tests use a real Redis: the one at REDIS_URL when something answers
 * there, otherwise a `redis-server` of our own on a free port (as .ci/run does on 6379), so that
 * `npm test` passes on a fresh machine with nothing running. Only a missing `redis-server` binary
 * fails the run, with one message that says how to install it.
 *
 * This module is also jest's globalSetup (its default export). jest loads it with plain `require`,
 * outside the test sandbox and its module mapper, hence Node builtins only and no relative imports.
 */
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisServer {
  readonly url: string;
  readonly pid: number;
  /** Signal the server by its pid and wait until it has exited. SIGKILL imitates a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export class RedisMissingError extends Error {
  override readonly name = 'RedisMissingError';
}

/** True when something accepts a TCP connection at the URL's host and port (what .ci/run probes). */
export function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** A config file, read before the command-line options (Sentinel needs one it can rewrite). */
  config?: string;
  /** More options: `--cluster-enabled yes`, `--replicaof …`, `--sentinel`. */
  args?: string[];
  /** @default a free port */
  port?: number;
}

/** A `redis-server` on a free loopback port, with no persistence, ready to answer. */
export async function startRedisServer(
  bin = 'redis-server',
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  if (options.port !== undefined) return spawnRedisServer(bin, options, options.port);
  // A port found free may be taken before the server binds it (other tests start servers too).
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnRedisServer(bin, options, await freePort());
    } catch (err) {
      if (attempt === 3 || !(err instanceof Error) || !/ended at start-up/.test(err.message)) throw err;
    }
  }
}

async function spawnRedisServer(
  bin: string,
  { config, args = [] }: RedisServerOptions,
  port: number,
): Promise<RedisServer> {
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      ...(config === undefined ? [] : [config]),
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...args,
    ],
    { stdio: 'ignore' }, // not detached: a Ctrl-C in the terminal reaches it along with jest
  );
  // A server that nobody stopped must not keep jest waiting: unref it. And it must not outlive the
  // process that started it: kill it on exit. (That hook works in jest's main process, for
  // globalSetup's server; inside a test file `process` is jest's copy, so tests stop theirs in finally.)
  child.unref();
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let gone: string | undefined; // how it ended, once it has
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<void>((resolve) => {
    const ended = (how: string) => {
      gone ??= how;
      process.off('exit', killOnExit);
      resolve();
    };
    child.once('error', (err) => {
      spawnError = err;
      ended(err.message);
    });
    child.once('exit', (code, signal) => ended(signal ?? `exit code ${code}`));
  });
  const deadline = Date.now() + 5000;
  while (!(await answers(url, 200))) {
    // By code, not instanceof: under jest the error comes from another realm than this module's Error.
    if (spawnError?.code === 'ENOENT') throw new RedisMissingError(`${bin} is not installed`);
    if (gone !== undefined) throw new Error(`${bin} on port ${port} ended at start-up (${gone})`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${bin} did not answer on port ${port} within 5 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (gone !== undefined) return;
      child.ref(); // the caller waits for the exit: keep the event loop alive until it comes
      try {
        process.kill(pid, signal);
      } catch {
        // ESRCH: it exited on its own and the 'exit' event is on its way
      }
      await exited;
    },
  };
}

/**
 * The Redis to test against: `wanted` when it answers; else one we start, which the caller stops.
 * Throws a RedisMissingError whose message says how to install Redis when neither can be had.
 */
export async function resolveRedis(
  wanted: string,
  bin = 'redis-server',
): Promise<{ url: string; server?: RedisServer }> {
  if (await answers(wanted)) return { url: wanted };
  try {
    const server = await startRedisServer(bin);
    return { url: server.url, server };
  } catch (err) {
    if (!(err instanceof RedisMissingError)) throw err;
    throw new RedisMissingError(
      `The tests need Redis: nothing answers at ${wanted}, and ${err.message} to start one of our own.\n` +
        'Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), ' +
        'or set REDIS_URL to a running Redis.',
    );
  }
}

/** Where the server started by globalSetup waits for globalTeardown (both run in jest's main process). */
export const STARTED = Symbol.for('portcullis.test.redis-server');

/**
 * A Redis Cluster or Sentinel set for the run (PORTCULLIS_TEST_REDIS=cluster|sentinel), the one the
 * environment names when it answers, or else one started by redis-topology-daemon.ts (a process of
 * its own: this module may not import our helpers) and held until globalTeardown stops it.
 */
async function resolveTopology(kind: string, rootDir: string): Promise<RedisServer | undefined> {
  const first = (process.env[kind === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_SENTINELS'] ?? '').split(
    ',',
  )[0];
  if (first && (await answers(`redis://${first}`))) return undefined;
  const daemon = spawn(
    process.execPath,
    ['--import', 'tsx', join(rootDir, '__tests__/helpers/redis-topology-daemon.ts'), kind],
    { cwd: rootDir, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    daemon.once('exit', (code) => reject(new Error(`the Redis ${kind} did not start (exit code ${code})`)));
  });
  Object.assign(process.env, JSON.parse(line) as Record<string, string>);
  return {
    url: line,
    pid: daemon.pid!,
    async stop() {
      daemon.stdin.end(); // the daemon stops its servers by pid, then exits
      await exited;
    },
  };
}

/**
 * jest globalSetup, once per run before any worker starts: choose the Redis for the whole run and hand
 * it to the workers through REDIS_URL (or the topology's variables), which they inherit.
 */
export default async function globalSetup(_global?: unknown, project?: { rootDir: string }): Promise<void> {
  const kind = process.env['PORTCULLIS_TEST_REDIS'] || 'single';
  if (kind !== 'single') {
    const daemon = await resolveTopology(kind, project?.rootDir ?? process.cwd());
    if (daemon !== undefined) (globalThis as { [STARTED]?: RedisServer })[STARTED] = daemon;
    return;
  }
  const wanted = process.env['REDIS_URL'] || DEFAULT_REDIS_URL;
  try {
    const { url, server } = await resolveRedis(wanted);
    process.env['REDIS_URL'] = url;
    if (server === undefined) return;
    (globalThis as { [STARTED]?: RedisServer })[STARTED] = server;
    console.log(
      `\nNothing answers at ${wanted}: started redis-server at ${url} (pid ${server.pid}) for this run.`,
    );
  } catch (err) {
    if (!(err instanceof RedisMissingError)) throw err;
    // One message and no stack trace: there is nothing to debug, only something to install.
    console.error(`\n${err.message}\n`);
    process.exit(1);
  }
}
