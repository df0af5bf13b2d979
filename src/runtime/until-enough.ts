// Asking many peers at once and going on as soon as their answers decide the question, instead of waiting for the
// slowest (a partitioned peer answers only when its timeout ends).

/**
 * The answers of `asks` in the order they arrive, once `enough(answersSoFar)` holds or every ask has settled
 * (a rejected ask gives no answer). Asks still running are left to finish on their own.
 */
export function untilEnough<T>(asks: Promise<T>[], enough: (got: T[]) => boolean): Promise<T[]> {
  return new Promise((resolve) => {
    const got: T[] = [];
    let settled = 0;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        resolve([...got]);
      }
    };
    if (!asks.length || enough(got)) return finish();
    for (const a of asks) {
      a.then(
        (v) => {
          got.push(v);
        },
        () => {},
      ).finally(() => {
        settled++;
        if (done) return;
        if (settled === asks.length || enough(got)) finish();
      });
    }
  });
}
