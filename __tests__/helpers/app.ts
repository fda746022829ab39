/**
 * Start an app on 127.0.0.1 on a free port. The app is built once the port (and so `baseURL`) is
 * known, because `auth()` needs its public URL for the redirect URI.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RunningApp {
  baseURL: string;
  server: Server;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function startApp(
  build: (baseURL: string) => Handler | Promise<Handler>,
  port = 0,
): Promise<RunningApp> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  let handler: Handler;
  try {
    handler = await build(baseURL);
  } catch (err) {
    await close(); // an app that cannot start (a TypeError from auth()) must not keep jest from exiting
    throw err;
  }
  server.on('request', handler);
  return { baseURL, server, close };
}
