export * from './api/index.js';
export * from './errors.js';
export type {
  AccessTokenClaims,
  AddressClaim,
  IdTokenClaims,
  IdTokenProtocolClaims,
  StandardAccessTokenClaims,
  StandardClaims,
  UserClaims,
} from './protocol/claims.js';
export type { LogDetails, Logger } from './protocol/logger.js';
export * from './service/index.js';
export * from './signin/index.js';
