/**
 * Options as data. Each product declares every option once (its name, environment variable, type,
 * default, description, and whether a value weakens a check), in a table typed against its options
 * interface so that neither can gain or lose a name without the other. From that one table:
 * - the environment is read ({@link readEnv});
 * - an unknown option is a start-up TypeError naming the closest known one ({@link checkKnownOptions});
 * - a weakened check logs one warning at start-up ({@link warnWeakenedChecks});
 * - the configuration reference in docs/ is generated (scripts/generate-reference.ts).
 *
 * The rules that relate options to each other stay in each product's validator.
 */
import type { Logger } from '../protocol/logger.js';
import { envBoolean, envList, envNumber, envString } from './env.js';

/** How an environment variable's text becomes the option's value. */
export type EnvKind = 'string' | 'boolean' | 'number' | 'list' | 'query';

export interface OptionSpec {
  /** The environment variable, when the option may come from the environment. */
  readonly env?: string;
  /** How the variable is parsed. @default 'string' */
  readonly envKind?: EnvKind;
  /** The option's type as the reference shows it. */
  readonly type: string;
  /** The default as the reference shows it; none when the option is required or off. */
  readonly default?: string;
  /** One or two sentences: what it does, and when to set it. */
  readonly doc: string;
  /**
   * When a value weakens a check: the warning logged at start-up (what it lets through), else
   * `undefined`. Only explicit or environment values are judged, never defaults.
   */
  readonly weakens?: (value: unknown) => string | undefined;
  /** The options inside an object-valued option, checked and documented the same way. */
  readonly fields?: OptionTable;
  /**
   * A list or a map of entries of one shape (`bearer({ issuers: [...] })`, `auth({ providers: { id:
   * {...} } })`), each checked and documented against `table`; `label` is how the reference writes an
   * entry's path (`[]`, `.<id>`).
   */
  readonly each?: { readonly label: string; readonly table: OptionTable };
  /**
   * Build the option from its fields' variables when it is not given (`API_DPOP_REQUIRED` → `dpop:
   * { required }`). Off where setting a field's variable must not switch the whole option on.
   */
  readonly fieldsFromEnv?: boolean;
  /** `fields` lists only the documented ones: other names are allowed (IdP-specific parameters). */
  readonly openFields?: boolean;
  /** The product reads this variable by a rule of its own (credentials are taken whole), not {@link readEnv}. */
  readonly envByRule?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A table with exactly the keys of an options interface. */
export type OptionsTable<T> = { readonly [K in keyof Required<T>]: OptionSpec };

type Env = Record<string, string | undefined>;

/** One variable's value, parsed as its spec says; a bad value throws a TypeError naming it. */
export function envValue(spec: OptionSpec, env: Env): unknown {
  if (spec.env === undefined) return undefined;
  switch (spec.envKind ?? 'string') {
    case 'boolean':
      return envBoolean(env, spec.env);
    case 'number':
      return envNumber(env, spec.env);
    case 'list':
      return envList(env, spec.env);
    case 'query': {
      const text = envString(env, spec.env);
      return text === undefined ? undefined : Object.fromEntries(new URLSearchParams(text));
    }
    default:
      return envString(env, spec.env);
  }
}

/**
 * The options with the environment filling what they leave out. An object-valued option is taken
 * whole when given; else, with `fieldsFromEnv`, it is built from its fields' variables if any is set.
 */
export function readEnv<T extends object>(table: OptionTable, options: T, env: Env): T {
  const out: Record<string, unknown> = { ...(options as Record<string, unknown>) };
  for (const [name, spec] of Object.entries(table)) {
    if (out[name] !== undefined || spec.envByRule === true) continue;
    let value = envValue(spec, env);
    if (value === undefined && spec.fields !== undefined && spec.fieldsFromEnv === true) {
      const nested: Record<string, unknown> = {};
      for (const [field, fieldSpec] of Object.entries(spec.fields)) {
        const fieldValue = envValue(fieldSpec, env);
        if (fieldValue !== undefined) nested[field] = fieldValue;
      }
      if (Object.keys(nested).length > 0) value = nested;
    }
    if (value !== undefined) out[name] = value;
  }
  return out as T;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The known name a mistyped one most likely meant: the same but for case (`clientId`), one that
 * contains it (`secret` → `clientSecret`) or that it contains (`keyPair` → `key`), or one a few edits
 * away. `undefined` when none is close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const containing = known.filter((k) => lower.length >= 4 && k.toLowerCase().includes(lower));
  if (containing.length > 0) return containing.sort((a, b) => a.length - b.length)[0];
  const contained = known.filter((k) => k.length >= 3 && lower.includes(k.toLowerCase()));
  if (contained.length > 0) return contained.sort((a, b) => b.length - a.length)[0];
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof URL);
}

/**
 * Refuse options the product does not have, naming the closest one: a misspelt option is silently a
 * missing one, and a missing option can be a missing check.
 */
export function checkKnownOptions(product: string, table: OptionTable, options: object, path = ''): void {
  const known = Object.keys(table);
  for (const [name, value] of Object.entries(options)) {
    const spec = table[name];
    if (spec === undefined || !Object.hasOwn(table, name)) {
      const closest = closestName(name, known);
      const hint = closest === undefined ? '' : `; did you mean "${path}${closest}"?`;
      throw new TypeError(`${product} has no option "${path}${name}"${hint}`);
    }
    if (spec.fields !== undefined && spec.openFields !== true && isPlainObject(value)) {
      checkKnownOptions(product, spec.fields, value, `${path}${name}.`);
    }
    for (const [entryPath, entry] of entriesOf(spec, value, `${path}${name}`)) {
      checkKnownOptions(product, spec.each!.table, entry, `${entryPath}.`);
    }
  }
}

/** The entries of a list or map option (`issuers[0]`, `providers.corp`) that are objects, with their paths. */
function entriesOf(spec: OptionSpec, value: unknown, path: string): Array<[string, Record<string, unknown>]> {
  if (spec.each === undefined) return [];
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((entry, i) => [`${path}[${i}]`, entry])
    : isPlainObject(value)
      ? Object.entries(value).map(([key, entry]) => [`${path}.${key}`, entry])
      : [];
  return entries.filter((pair): pair is [string, Record<string, unknown>] => isPlainObject(pair[1]));
}

/**
 * Log one warning per option whose value weakens a check, naming the option and its variable, so
 * that a relaxed setting copied from a test environment is seen the day it reaches production.
 */
export function warnWeakenedChecks(
  product: string,
  table: OptionTable,
  options: object,
  logger: Logger,
  path = '',
): void {
  for (const [name, value] of Object.entries(options)) {
    const spec = table[name];
    if (spec === undefined || value === undefined) continue;
    const why = spec.weakens?.(value);
    if (why !== undefined) {
      const env = spec.env === undefined ? '' : ` (${spec.env})`;
      logger.warn(
        { product, option: `${path}${name}`, env: spec.env },
        `${product}: "${path}${name}"${env} weakens a check: ${why}`,
      );
    }
    if (spec.fields !== undefined && isPlainObject(value)) {
      warnWeakenedChecks(product, spec.fields, value, logger, `${path}${name}.`);
    }
    for (const [entryPath, entry] of entriesOf(spec, value, `${path}${name}`)) {
      warnWeakenedChecks(product, spec.each!.table, entry, logger, `${entryPath}.`);
    }
  }
}
