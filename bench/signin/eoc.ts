/** express-openid-connect as the sign-in benches configure it: the same IdP client as portcullis. */
import type { ConfigParams } from 'express-openid-connect';
import { WEB_SECRET } from '../../__tests__/helpers/idp.js';

export function eocOptions(issuerBaseURL: string, baseURL: string, scope: string): ConfigParams {
  return {
    issuerBaseURL,
    baseURL,
    clientID: 'web',
    clientSecret: WEB_SECRET,
    secret: 'bench-secret-bench-secret-bench-secret',
    authRequired: false,
    idpLogout: false,
    authorizationParams: { response_type: 'code', scope },
  };
}
