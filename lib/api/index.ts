// Protected APIs: bearer() and the route checks. Re-exported from the package root.
export type { BearerOptions } from '../config/bearer.js';
export type { BearerDpopOptions } from '../config/bearer-dpop.js';
export type { IntrospectionOptions } from '../config/bearer-introspection.js';
export type { BearerIssuerOptions } from '../config/bearer-issuers.js';
export type { BearerMtlsOptions, CertificateProxy, TrustedCertificateHeader } from '../config/bearer-mtls.js';
export type { AsymmetricAlgorithm, HmacAlgorithm, JwsAlgorithm } from '../protocol/algorithms.js';
export {
  type BearerRefusal,
  type BearerRefusalReason,
  type RefusalValue,
  refusalOf,
} from '../protocol/bearer-refusal.js';
export { InvalidDpopProofError, UseDpopNonceError } from '../protocol/dpop/errors.js';
export {
  type RedisDpopReplayStoreOptions,
  redisDpopReplayStore,
} from '../protocol/dpop/redis-replay-store.js';
export type { DpopReplayStore } from '../protocol/dpop/replay-cache.js';
export type { AllowedTenants } from '../protocol/issuer-template.js';
export type { ForwardedCertificateFormat } from '../protocol/mtls/forwarded-certificate.js';
export type { AuthenticatedRequest, AuthResult } from '../types/express.js';
export type { SignedInAccessToken, SignedInContext } from './auth-source.js';
export { bearer, type NodeMiddleware } from './bearer.js';
export { requireAcr } from './require-acr.js';
export { type ClaimPredicate, type ClaimValue, requireClaim } from './require-claim.js';
export { requireAnyScope, requireScope } from './require-scope.js';
export type { Next } from './respond.js';
