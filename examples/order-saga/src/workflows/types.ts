export interface OrderItem {
  sku: string;
  qty: number;
}

export interface Order {
  orderId: string;
  /** In cents. */
  amount: number;
  items: OrderItem[];
  email: string;
}

export interface Reservation {
  reservationId: string;
  idempotencyKey: string;
  items: OrderItem[];
}

export interface Shipment {
  trackingNumber: string;
  reservationId: string;
}

export interface OrderResult {
  orderId: string;
  paymentId: string;
  trackingNumber: string;
}
