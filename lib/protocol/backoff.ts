/**
 * Bounded exponential backoff with full jitter (the AWS architecture blog's "Full Jitter"): the
 * n-th retry waits a random time in [0, min(cap, base * 2^n)], so that a fleet that failed together
 * does not come back together.
 */

export interface BackoffOptions {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** Milliseconds. @default 100 */
  readonly base?: number;
  /** Milliseconds. @default 2000 */
  readonly cap?: number;
  /** Only errors for which this is true are retried; others are thrown at once. */
  readonly retryable: (err: unknown) => boolean;
  /**
   * The wait the server asked for (a `Retry-After`), in milliseconds: waited at least that long, and
   * when it is longer than `cap` the error is thrown at once rather than waited out by the caller.
   */
  readonly serverDelay?: (err: unknown) => number | undefined;
  /** Told before each wait (for hooks). */
  readonly onRetry?: (attempt: number, delayMs: number, err: unknown) => void;
}

export function backoffDelay(attempt: number, base = 100, cap = 2000): number {
  return Math.random() * Math.min(cap, base * 2 ** attempt);
}

export async function withBackoff<T>(fn: () => Promise<T>, options: BackoffOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= options.retries || !options.retryable(err)) throw err;
      const asked = options.serverDelay?.(err);
      if (asked !== undefined && asked > (options.cap ?? 2000)) throw err;
      const delay = Math.max(asked ?? 0, backoffDelay(attempt, options.base, options.cap));
      options.onRetry?.(attempt + 1, delay, err);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
