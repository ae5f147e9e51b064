/**
 * Polls `probe` until it returns something other than undefined or false,
 * and returns that; fails after `timeoutMs` naming `what` and, when given,
 * what `detail()` says about the state at that moment.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `; ${detail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
