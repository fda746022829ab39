/**
 * The callback's form_post body (`application/x-www-form-urlencoded`), read without body-parser
 * and bounded, or taken from `req.body` when the app already parsed it.
 */
import type { IncomingMessage } from 'node:http';
import { PortcullisError } from '../errors.js';

const LIMIT = 64 * 1024;

export async function readFormBody(req: IncomingMessage & { body?: unknown }): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    throw new PortcullisError(
      'ERR_CALLBACK_INVALID',
      'the callback body must be application/x-www-form-urlencoded',
      {
        status: 400,
      },
    );
  }
  const parsed = req.body;
  if (parsed !== undefined && parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) {
    // express.urlencoded() ran already: the stream is consumed, use what it parsed.
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value === 'string') params.append(key, value);
      else if (Array.isArray(value)) for (const v of value) params.append(key, String(v));
    }
    return params;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) {
      throw new PortcullisError('ERR_BODY_TOO_LARGE', 'the callback body is too large', { status: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
