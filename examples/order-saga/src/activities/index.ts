import { ApplicationFailure, Context } from 'wfkit/activity';
import type { Order, Reservation, Shipment } from '../workflows/types.js';

/** Checks the payment details; a non-positive amount can never succeed, so it is not retried. */
export async function validatePayment(order: Order): Promise<{ paymentId: string }> {
  if (order.amount <= 0) {
    throw ApplicationFailure.nonRetryable(`amount must be positive, got ${order.amount}`, 'InvalidPayment');
  }
  return { paymentId: `pay-${order.orderId}` };
}

/** Holds stock for the order. The idempotency key makes a retried reservation the same reservation. */
export async function reserveInventory(order: Order): Promise<Reservation> {
  const { idempotencyKey } = Context.current().info;
  return { reservationId: `res-${order.orderId}`, idempotencyKey, items: order.items };
}

/** Releases a reservation: the saga's compensation when a later step fails. */
export async function cancelInventoryReservation(reservation: Reservation): Promise<void> {
  void reservation;
}

/** Hands the order to the carrier. */
export async function shipOrder(order: Order, reservation: Reservation): Promise<Shipment> {
  return { trackingNumber: `TRK-${order.orderId}`, reservationId: reservation.reservationId };
}

/** Tells the customer the order is on its way. */
export async function sendConfirmationEmail(order: Order, shipment: Shipment): Promise<void> {
  void order;
  void shipment;
}
