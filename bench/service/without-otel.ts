/**
 * `node --import ./bench/service/without-otel.ts`: a process in which `@opentelemetry/api` cannot be
 * found, as in an application that does not install it, although this repository does (for tests).
 */
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === '@opentelemetry/api' || specifier.startsWith('@opentelemetry/api/')) {
    const err = new Error("Cannot find package '@opentelemetry/api' (hidden by the bench)");
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
