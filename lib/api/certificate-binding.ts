/**
 * Certificate-bound access tokens in `bearer()` (RFC 8705 §3): a token whose `cnf.x5t#S256` names a
 * certificate is accepted only from a request that comes with that certificate, the client
 * certificate of the TLS connection to this process, or behind a proxy that terminates TLS, the one in
 * the header `mtls.trustedHeader` names. No header is read unless it is named. The token's verdict may
 * come from the verified-token cache; the certificate is compared on every request.
 *
 * Without `mtls`, a certificate-bound token is refused: its binding cannot be checked, and accepting
 * it as a bearer token would undo what the IdP bound it for (as DPoP-bound tokens are refused without
 * DPoP). A token that is not bound is accepted as before, unless `mtls.required`.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { BearerConfig } from '../config/bearer.js';
import type { TrustedCertificateHeader } from '../config/bearer-mtls.js';
import { InvalidTokenError } from '../errors.js';
import type { AuthResult } from '../protocol/auth-result.js';
import { refuse, shown } from '../protocol/bearer-refusal.js';
import { certificateThumbprint } from '../protocol/mtls/certificate.js';
import { type ForwardedThumbprint, forwardedThumbprint } from '../protocol/mtls/forwarded-certificate.js';

export interface CertificateGate {
  /** The verdict with its certificate binding checked: `req.auth` gets `mtls` when the token is bound. */
  bind(req: IncomingMessage, auth: AuthResult): AuthResult;
}

/** The token's `cnf.x5t#S256` when it has one; `null` when it has one that is not a thumbprint. */
function boundThumbprint(auth: AuthResult): string | null | undefined {
  const cnf: unknown = auth.payload.cnf;
  if (typeof cnf !== 'object' || cnf === null || !('x5t#S256' in cnf)) return undefined;
  const x5t = (cnf as { 'x5t#S256': unknown })['x5t#S256'];
  return typeof x5t === 'string' && /^[A-Za-z0-9_-]{43}$/.test(x5t) ? x5t : null;
}

/**
 * A connection's certificate, by socket: the requests of a kept-alive connection pay for its
 * thumbprint once. Only a certificate seen is kept, never its absence. Were a peer to renegotiate to
 * another certificate, the one it proved first would still count: a key it holds all the same.
 */
const CONNECTION_CERTIFICATES = new WeakMap<object, ForwardedThumbprint>();

/** The client certificate of the TLS connection (an https server with `requestCert: true`). */
function connectionThumbprint(req: IncomingMessage): ForwardedThumbprint | undefined {
  const socket = req.socket as Partial<TLSSocket> | null;
  if (socket === null || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const known = CONNECTION_CERTIFICATES.get(socket);
  if (known !== undefined) return known;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return undefined;
  const found = Object.freeze({ thumbprint: certificateThumbprint(certificate.raw) });
  CONNECTION_CERTIFICATES.set(socket, found);
  return found;
}

/** The certificate in the trusted header; a header sent twice is no certificate anyone can vouch for. */
function headerThumbprint(
  req: IncomingMessage,
  { name, format }: Readonly<TrustedCertificateHeader>,
): ForwardedThumbprint | undefined {
  // `headersDistinct` keeps a repeated header's values apart (Node joins them in `headers`).
  const raw =
    (req.headersDistinct as IncomingMessage['headersDistinct'] | undefined)?.[name] ?? req.headers[name];
  const values = (typeof raw === 'string' ? [raw] : raw)?.filter((value) => value !== '');
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) return { problem: `it came ${values.length} times` };
  return forwardedThumbprint(values[0]!, format);
}

export function createCertificateGate(config: BearerConfig): CertificateGate {
  const { realm, mtls } = config;
  const header = mtls?.header;
  const source = header === undefined ? 'the TLS connection' : `the trusted header "${header.name}"`;

  function refused(description: string, details: Omit<Parameters<typeof refuse>[1], 'reason'>): never {
    throw refuse(new InvalidTokenError(description, { realm }), { reason: 'mtls', ...details });
  }

  return {
    bind(req, auth) {
      const bound = boundThumbprint(auth);
      if (bound === undefined) {
        if (mtls?.required !== true) return auth;
        refused('the token is not certificate-bound', {
          expected: 'cnf.x5t#S256',
          hint: 'mtls.required is on: the client must get its tokens over mutual TLS from an IdP that binds them (RFC 8705)',
        });
      }
      if (bound === null) {
        refused('the token\'s "cnf.x5t#S256" is not a certificate thumbprint', {
          received: shown((auth.payload.cnf as Record<string, unknown>)['x5t#S256']),
        });
      }
      if (mtls === undefined) {
        refused('the token is certificate-bound, and this API does not check client certificates', {
          hint: 'set mtls on bearer() to accept certificate-bound tokens (RFC 8705): the TLS connection must ask for client certificates, or a proxy must forward them in a trusted header',
        });
      }
      const presented = header === undefined ? connectionThumbprint(req) : headerThumbprint(req, header);
      if (presented === undefined) {
        refused('the token is certificate-bound, and the request came without a client certificate', {
          expected: bound,
          received: null,
          hint:
            header === undefined
              ? 'the client must call over mutual TLS with the certificate its token was issued to (this server must ask for client certificates: requestCert); behind a proxy that terminates TLS, set mtls.trustedHeader'
              : `the proxy set no "${header.name}" header: the client sent no certificate, or the proxy does not ask for one or does not forward it`,
        });
      }
      if (presented.problem !== undefined) {
        refused('the client certificate could not be read', {
          expected: bound,
          hint: `${source}'s certificate cannot be read: ${presented.problem}`,
        });
      }
      if (presented.thumbprint !== bound) {
        refused('the token is bound to another client certificate', {
          expected: bound,
          received: presented.thumbprint,
          hint: `the certificate of ${source} is not the one the token was issued to: a token used by another client, or a certificate renewed since the token was issued`,
        });
      }
      return Object.freeze({ ...auth, mtls: Object.freeze({ 'x5t#S256': bound }) });
    },
  };
}
