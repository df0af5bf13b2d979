// Polling with a deadline: the only way tests wait for something to become true.

export class DeadlineError extends Error {}

/** Polls `check` every `everyMs` until it returns a truthy value; throws naming `what` after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 10_000,
  everyMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      throw new DeadlineError(
        `timed out after ${ms} ms waiting for ${what}; last: ` +
          `${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
