import { defineQuery, defineSignal, defineUpdate, setHandler, sleep, uuid4 } from 'wfkit/workflow';

export const go = defineSignal<[string]>('go');
export const draw = defineQuery<number>('draw');
export const drawUuid = defineQuery<string>('drawUuid');
export const bump = defineUpdate<number, [number]>('bump');

/**
 * Returns at once, while a coroutine it started issues a timer two ticks later: histories order
 * that timer before the completion.
 */
export async function lateTimer(): Promise<string> {
  const background = async () => {
    await Promise.resolve();
    await Promise.resolve();
    await sleep('1 minute');
  };
  void background();
  return 'done';
}

/** Records when a signal sent with the start is handled, against the function's body and first await. */
export async function startOrder(): Promise<string[]> {
  const seen: string[] = [];
  setHandler(go, (value) => {
    seen.push(`signal ${value}`);
  });
  seen.push('body');
  await Promise.resolve();
  seen.push('after first await');
  return seen;
}

/**
 * Draws from the run's randomness after each timer; its query and update validator draw too (which
 * must not move the run's sequence).
 */
export async function draws(): Promise<number[]> {
  const drawn: number[] = [];
  let total = 0;
  setHandler(draw, () => Math.random());
  setHandler(drawUuid, () => `${uuid4()} ${crypto.randomUUID()}`);
  setHandler(bump, (by) => (total += by), {
    validator: (by) => {
      if (Math.random() > 2 || crypto.getRandomValues(new Uint8Array(4)).length !== 4 || by < 0)
        throw new Error('never');
    },
  });
  for (let i = 0; i < 2; i++) {
    await sleep('1 minute');
    drawn.push(Math.random());
  }
  return drawn;
}
