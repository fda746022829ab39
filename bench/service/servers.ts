/**
 * The token endpoint and the API of the CPU bench, in a process of their own, so that the bench's
 * `process.cpuUsage()` counts the client's work only. Prints `{ tokenEndpoint, apiUrl }` as JSON,
 * then serves until its stdin closes.
 */
import { startResourceServer, startTokenServer } from '../../__tests__/helpers/token-server.js';

const tokens = await startTokenServer();
const api = await startResourceServer(tokens);
process.stdout.write(`${JSON.stringify({ tokenEndpoint: tokens.tokenEndpoint, apiUrl: api.url })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await api.close();
  await tokens.close();
  process.exit(0);
});
