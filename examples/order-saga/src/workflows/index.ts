import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  log,
  proxyActivities,
  setHandler,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';
import type { Order, OrderResult } from './types.js';

export type { Order, OrderResult } from './types.js';

const { validatePayment, reserveInventory, shipOrder, sendConfirmationEmail, cancelInventoryReservation } =
  proxyActivities<typeof activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
  });

/** The step the order is at, for `wf query --name step`. */
export const step = defineQuery<string>('step');

/**
 * An order saga: each step that succeeded registers its compensation, and when a later step fails
 * the compensations run in reverse order before the workflow fails with the cause.
 */
export async function orderWorkflow(order: Order): Promise<OrderResult> {
  let current = 'validating payment';
  setHandler(step, () => current);
  const compensations: (() => Promise<void>)[] = [];
  try {
    const { paymentId } = await validatePayment(order);
    current = 'reserving inventory';
    const reservation = await reserveInventory(order);
    compensations.unshift(() => cancelInventoryReservation(reservation));
    current = 'shipping';
    const shipment = await shipOrder(order, reservation);
    current = 'sending confirmation';
    await sendConfirmationEmail(order, shipment);
    current = 'done';
    log.info('order completed', { orderId: order.orderId, trackingNumber: shipment.trackingNumber });
    return { orderId: order.orderId, paymentId, trackingNumber: shipment.trackingNumber };
  } catch (error) {
    current = 'compensating';
    await CancellationScope.nonCancellable(async () => {
      for (const compensate of compensations) await compensate();
    });
    current = 'failed';
    throw ApplicationFailure.create({
      message: `order ${order.orderId} failed: ${(error as Error).message}`,
      type: 'OrderFailed',
      nonRetryable: true,
      cause: error as Error,
    });
  }
}
