/**
 * Twelve-factor configuration: every option may come from the environment. Explicit options win;
 * the environment fills what they leave out. Values are strings; the readers below turn them into
 * the option's type and name the variable when they cannot.
 */

type Env = Record<string, string | undefined>;

/** A string from the environment, or `undefined` when unset or empty. */
export function envString(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A boolean from the environment: true/false, 1/0, yes/no, on/off. */
export function envBoolean(env: Env, name: string): boolean | undefined {
  const value = envString(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new TypeError(`environment variable ${name} must be true or false`);
}

/** A finite number from the environment. */
export function envNumber(env: Env, name: string): number | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`environment variable ${name} must be a number`);
  return n;
}

/** A list from the environment: comma or space separated. */
export function envList(env: Env, name: string): string[] | undefined {
  const value = envString(env, name);
  return value === undefined ? undefined : value.split(/[\s,]+/).filter(Boolean);
}

/** Take `option` when it is set, else the environment's value. */
export function pick<T>(option: T | undefined, fromEnv: T | undefined): T | undefined {
  return option === undefined ? fromEnv : option;
}

/** Drop the keys whose value is `undefined` (so optional options stay truly absent). */
export function compact<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v;
  return out as T;
}
