/**
 * oidc-provider as a FAPI 2.0 Security Profile IdP: `features.fapi` at profile 2.0 (PKCE required,
 * client assertions with the issuer as `aud`), pushed authorization requests required, DPoP-bound
 * tokens for the private_key_jwt clients (`web-jwt`, `service-jwt`), and only the profile's algorithms
 * (PS256 ID and access tokens; PS256, ES256 and EdDSA for client assertions and proofs).
 */
import { type IdpSettings, startIdp, type TestIdp } from './idp.js';

const FAPI_ALGS = ['PS256', 'ES256', 'EdDSA'] as const;

export function startFapiIdp(overrides: Partial<IdpSettings> = {}): Promise<TestIdp> {
  return startIdp({
    requirePar: true,
    signingAlg: 'PS256',
    ...overrides,
    configure(configuration) {
      configuration.features = { ...configuration.features, fapi: { enabled: true, profile: '2.0' } };
      configuration.enabledJWA = {
        idTokenSigningAlgValues: FAPI_ALGS,
        clientAuthSigningAlgValues: FAPI_ALGS,
        dPoPSigningAlgValues: FAPI_ALGS,
      };
      for (const client of configuration.clients ?? []) {
        client.id_token_signed_response_alg = 'PS256';
        if (client.token_endpoint_auth_method === 'private_key_jwt')
          client['dpop_bound_access_tokens'] = true;
      }
      overrides.configure?.(configuration);
    },
  });
}
