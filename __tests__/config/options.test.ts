/**
 * What every product does with its option table: an unknown option is a start-up TypeError naming
 * the closest known one; an option that weakens a check logs one warning naming it and its variable.
 */
import { describe, expect, test } from '@jest/globals';
import { auth, bearer, type LogDetails, type Logger, serviceAgent } from '../../lib/index.js';
import { ALL_OPTIONS, type Product } from './tables.js';

const signin = {
  issuerBaseURL: 'https://idp.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'app',
  clientSecret: 's',
};
const api = { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks', audience: 'api' };
const service = { tokenEndpoint: 'https://idp.example.com/token', clientID: 'svc', clientSecret: 's' };

const FACTORIES: Record<Product, (extra: Record<string, unknown>) => unknown> = {
  'auth()': (extra) => auth({ ...signin, ...extra }),
  'bearer()': (extra) => bearer({ ...api, ...extra }),
  'serviceAgent()': (extra) => serviceAgent({ ...service, ...extra }),
};

describe('unknown options', () => {
  test.each<[Product, Record<string, unknown>, string]>([
    ['auth()', { secret: 'x' }, 'auth() has no option "secret"; did you mean "clientSecret"?'],
    ['auth()', { clientId: 'x' }, 'auth() has no option "clientId"; did you mean "clientID"?'],
    ['auth()', { issuerBaseUrl: 'x' }, 'auth() has no option "issuerBaseUrl"; did you mean "issuerBaseURL"?'],
    [
      'auth()',
      { routes: { callbak: '/cb' } },
      'auth() has no option "routes.callbak"; did you mean "routes.callback"?',
    ],
    ['auth()', { zzzzzz: 1 }, 'auth() has no option "zzzzzz"'],
    ['bearer()', { audiences: ['x'] }, 'bearer() has no option "audiences"; did you mean "audience"?'],
    [
      'bearer()',
      { issuerBaseUrl: 'x' },
      'bearer() has no option "issuerBaseUrl"; did you mean "issuerBaseURL"?',
    ],
    [
      'bearer()',
      { dpop: { require: true } },
      'bearer() has no option "dpop.require"; did you mean "dpop.required"?',
    ],
    [
      'bearer()',
      { introspection: { clientId: 'x' } },
      'bearer() has no option "introspection.clientId"; did you mean "introspection.clientID"?',
    ],
    [
      'serviceAgent()',
      { clientId: 'x' },
      'serviceAgent() has no option "clientId"; did you mean "clientID"?',
    ],
    ['serviceAgent()', { scopes: 'a' }, 'serviceAgent() has no option "scopes"; did you mean "scope"?'],
  ])('%s %j', (product, extra, message) => {
    expect(() => FACTORIES[product](extra)).toThrow(new TypeError(message));
  });

  test('an inherited name is not an option', () => {
    expect(() => bearer({ ...api, toString: 'x' } as never)).toThrow(/bearer\(\) has no option "toString"/);
  });
});

function recorder(): { logger: Logger; lines: Array<[LogDetails, string]> } {
  const lines: Array<[LogDetails, string]> = [];
  return { lines, logger: { warn: (details, message) => lines.push([details, message]) } };
}

const WEAKENING = ALL_OPTIONS.filter(({ spec }) => spec.weakens !== undefined);

describe('weakened checks', () => {
  test('the options that weaken a check are the ones API.md names', () => {
    expect(WEAKENING.map(({ product, path }) => `${product} ${path}`).sort()).toEqual([
      'auth() allowInsecureHttp',
      'auth() noStore',
      'bearer() allowInsecureHttp',
      'bearer() allowJWTTyp',
      'bearer() allowQueryToken',
      'bearer() authRequired',
      'bearer() clientIdAsAudience',
      'serviceAgent() allowInsecureHttp',
    ]);
  });

  test.each(WEAKENING.map(({ product, path, spec }) => [product, path, spec.env] as const))(
    '%s %s logs one warning at start-up naming it and %s',
    (product, path, env) => {
      const value = path !== 'authRequired' && path !== 'noStore';
      const { logger, lines } = recorder();
      FACTORIES[product]({ [path]: value, logger });
      expect(lines).toHaveLength(1);
      const [details, message] = lines[0]!;
      expect(details).toEqual({ product, option: path, env });
      expect(message).toMatch(
        new RegExp(`^${product.replace(/[()]/g, '\\$&')}: "${path}" \\(${env}\\) weakens a check: .{30,}`),
      );
    },
  );

  test('from the environment too', () => {
    const { logger, lines } = recorder();
    const saved = process.env.API_ALLOW_QUERY_TOKEN;
    process.env.API_ALLOW_QUERY_TOKEN = 'true';
    try {
      bearer({ ...api, logger });
    } finally {
      if (saved === undefined) delete process.env.API_ALLOW_QUERY_TOKEN;
      else process.env.API_ALLOW_QUERY_TOKEN = saved;
    }
    expect(lines.map(([d]) => d.option)).toEqual(['allowQueryToken']);
  });

  test.each(Object.keys(FACTORIES) as Product[])(
    '%s with its defaults, or the safe values, logs nothing',
    (product) => {
      const { logger, lines } = recorder();
      FACTORIES[product]({ logger });
      FACTORIES[product]({ logger, allowInsecureHttp: false });
      expect(lines).toEqual([]);
    },
  );

  test('a logger without warn() is refused at start-up', () => {
    expect(() => bearer({ ...api, logger: {} as Logger })).toThrow(
      new TypeError(
        '"logger" must be a pino-compatible logger with warn(details, message) (pino() or console will do)',
      ),
    );
  });
});
