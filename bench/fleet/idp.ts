/**
 * The IdP for the load run, in a process of its own so that it does not share a core with the load.
 * Prints its issuer, then one line per grant made (`grant client_credentials`, `grant refresh_token`…)
 * so that the run can count the token requests of the fleet's agents.
 */
import { startIdp } from '../../__tests__/helpers/idp.js';

console.warn = () => undefined;
console.info = () => undefined;
// A back-channel logout URI makes the IdP put `sid` in ID tokens, so the apps index sessions by
// sid as well as by sub, as they do with a real back-channel setup (the run measures the index).
const idp = await startIdp({ backchannelLogoutUri: `${process.env['APP_BASE_URL']}/backchannel-logout` });
idp.allowApp(process.env['APP_BASE_URL']!);
idp.provider.on('grant.success', (ctx) => {
  process.stdout.write(`grant ${String(ctx.oidc.params?.['grant_type'])}\n`);
});
console.log(`issuer ${idp.issuer}`);
process.on('SIGTERM', () => void idp.close().finally(() => process.exit(0)));
