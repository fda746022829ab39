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
export type { ChannelName } from './protocol/observability/channels.js';
export type {
  AgentEvent,
  AgentEventBase,
  AgentGrant,
  BearerEvent,
  EventOf,
  IdpEvent,
  IssuerField,
  JwksFetchCause,
  PortcullisEvent,
  PortcullisEventType,
  Product as PortcullisProduct,
  SigninEvent,
  SigninGrant,
  SigninProviderFields,
  SigninRefusalFields,
} from './protocol/observability/events.js';
export type { SigninRefusal, SigninRefusalReason } from './protocol/oidc-refusal.js';
export * from './service/index.js';
export * from './signin/index.js';
