/** A shopping cart in the style of Temporal's update samples: the client API's test subject. */
import {
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
} from 'wfkit/workflow';

export const addItem = defineUpdate<number, [string, number]>('addItem');
/** Adds once `release` has been signalled: an update that stays accepted and open for a while. */
export const addLater = defineUpdate<number, [number]>('addLater');
export const release = defineSignal('release');
export const checkout = defineSignal('checkout');
export const items = defineQuery<string[]>('items');

export async function cart(): Promise<{ items: string[]; total: number }> {
  const skus: string[] = [];
  let total = 0;
  let released = false;
  let done = false;
  setHandler(
    addItem,
    (sku, price) => {
      skus.push(sku);
      total += price;
      return total;
    },
    {
      validator: (_sku, price) => {
        if (price <= 0) throw new Error(`price must be positive, got ${price}`);
      },
    },
  );
  setHandler(addLater, async (price) => {
    await condition(() => released);
    total += price;
    return total;
  });
  setHandler(release, () => {
    released = true;
  });
  setHandler(checkout, () => {
    done = true;
  });
  setHandler(items, () => skus);
  await condition(() => done && allHandlersFinished());
  return { items: skus, total };
}
