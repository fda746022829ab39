/** The IdP for the load run, in a process of its own so that it does not share a core with the load. */
import { startIdp } from '../../__tests__/helpers/idp.js';

console.warn = () => undefined;
console.info = () => undefined;
const idp = await startIdp();
idp.allowApp(process.env['APP_BASE_URL']!);
console.log(`issuer ${idp.issuer}`);
process.on('SIGTERM', () => void idp.close().finally(() => process.exit(0)));
