/**
 * Can a request body be sent a second time? Only then is a call retried after a 401 invalid_token.
 *
 * Replayable: no body, strings, URLSearchParams, ArrayBuffer and typed arrays/Buffers, Blob and
 * FormData: fetch and axios serialise them afresh on every send. Not replayable: a ReadableStream,
 * a Node stream or any async iterable (their bytes are gone once read), and a `Request` object's
 * own body (a stream too). Those calls are sent once and their 401 goes back to the caller.
 */
export function isReplayableBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (typeof body === 'string') return true;
  if (body instanceof URLSearchParams || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return true;
  if (typeof FormData !== 'undefined' && body instanceof FormData) return true;
  if (typeof body !== 'object' || Array.isArray(body)) return true;
  // Streams and iterables (web or Node): read once.
  if (typeof (body as { getReader?: unknown }).getReader === 'function') return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false;
  if (Symbol.asyncIterator in body || Symbol.iterator in body) return false; // generators, Node streams
  // A plain object axios serialises to JSON on every send.
  return true;
}
