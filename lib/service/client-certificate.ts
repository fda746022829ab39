/**
 * An agent with a TLS client certificate (RFC 8705) presents it on its own calls too: a resource
 * server checks a certificate-bound token (`cnf.x5t#S256`) against the certificate of the connection.
 * `agent.fetch()` goes through the certificate's fetch; `attach()`ed axios instances get its https
 * Agent, unless a call (or the instance's defaults) names an `httpsAgent` of its own.
 */
import type { Agent } from 'node:https';
import type { AxiosLikeInstance, AxiosLikeRequestConfig } from './axios.js';

export function axiosWithCertificate<T extends AxiosLikeInstance>(instance: T, agent: Agent | undefined): T {
  if (agent === undefined) return instance;
  instance.interceptors.request.use(
    (config: AxiosLikeRequestConfig & { httpsAgent?: unknown }) => {
      config.httpsAgent ??= agent;
      return config;
    },
    null,
    { synchronous: true },
  );
  return instance;
}
