/** `bearer()` of another commit, for a before and after in the same process (`BASELINE=<git ref>`). */
import type { bearer } from '../../lib/index.js';
import { baselineLib } from '../baseline-lib.js';

export async function baselineBearer(ref: string): Promise<typeof bearer> {
  return ((await import(baselineLib(ref))) as { bearer: typeof bearer }).bearer;
}
