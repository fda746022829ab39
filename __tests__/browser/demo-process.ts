/** The demo as a child process of the browser test: started on free ports, stopped with its children. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Start the demo; `viaNpm` runs it exactly as the README says (`npm run demo`, which builds first). */
export async function startDemo(
  responseMode: string,
  viaNpm = false,
): Promise<{ child: ChildProcess; baseURL: string; issuer: string; output: () => string }> {
  const port = await freePort();
  const idpPort = await freePort();
  const partnerIdpPort = await freePort();
  const [command, args] = viaNpm
    ? ['npm', ['run', 'demo']]
    : [process.execPath, ['--import', 'tsx', 'demo-app/server.ts']];
  const child = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      IDP_PORT: String(idpPort),
      PARTNER_IDP_PORT: String(partnerIdpPort),
      RESPONSE_MODE: responseMode,
      REDIS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stopping it stops npm and node alike
  });
  let output = '';
  await new Promise<void>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('demo users:')) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${output}`)));
  });
  // A demo that dies mid-run would only show as "connection refused" in the checks after it: say why.
  child.once('exit', (code, signal) => {
    if (!stopping.has(child)) console.log(`  the demo exited by itself (${code ?? signal}):\n${output}`);
  });
  return {
    child,
    baseURL: `http://localhost:${port}`,
    issuer: `http://127.0.0.1:${idpPort}`,
    output: () => output,
  };
}

const stopping = new WeakSet<ChildProcess>();

export function stopDemo(child: ChildProcess): Promise<void> {
  stopping.add(child);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(); // died already
  return new Promise((done) => {
    child.once('exit', () => done());
    process.kill(-child.pid!, 'SIGINT');
  });
}
