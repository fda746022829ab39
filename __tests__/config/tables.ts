/** The three products' option tables, flattened: every option and field with its variable. */
import { BEARER_OPTIONS } from '../../lib/config/bearer-options.js';
import type { OptionSpec, OptionTable } from '../../lib/config/option-spec.js';
import { SERVICE_OPTIONS } from '../../lib/config/service-options.js';
import { SIGNIN_OPTIONS } from '../../lib/config/signin-options.js';

export const PRODUCTS = {
  'auth()': SIGNIN_OPTIONS,
  'bearer()': BEARER_OPTIONS,
  'serviceAgent()': SERVICE_OPTIONS,
} as const satisfies Record<string, OptionTable>;
export type Product = keyof typeof PRODUCTS;

export interface FlatOption {
  product: Product;
  path: string;
  spec: OptionSpec;
}

export function flatten(product: Product, table: OptionTable = PRODUCTS[product], prefix = ''): FlatOption[] {
  return Object.entries(table).flatMap(([name, spec]) => [
    { product, path: prefix + name, spec },
    ...(spec.fields === undefined ? [] : flatten(product, spec.fields, `${prefix}${name}.`)),
  ]);
}

export const ALL_OPTIONS: FlatOption[] = (Object.keys(PRODUCTS) as Product[]).flatMap((p) => flatten(p));

/** A value for a variable: booleans as asked (both are tried), anything else unlike any default. */
export function envSample(spec: OptionSpec, boolean: 'true' | 'false'): string {
  switch (spec.envKind ?? 'string') {
    case 'boolean':
      return boolean;
    case 'number':
      return '7';
    case 'list':
      return 'https://elsewhere.example/one https://elsewhere.example/two';
    case 'query':
      return 'extra=1';
    default:
      return 'https://elsewhere.example/value-0123456789-0123456789-0123456789';
  }
}
