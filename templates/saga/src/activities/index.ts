import { ApplicationFailure, Context } from 'wfkit/activity';
import type { Booking, TripRequest } from '../workflows/types.js';

// Stand-ins for the providers' APIs. Each call passes the activity's idempotency key, which is the
// same on every retry of one activity, so a retried booking cannot book twice.

/** Books the flight. */
export async function bookFlight(trip: TripRequest): Promise<Booking> {
  const { idempotencyKey } = Context.current().info;
  // Replace with your airline's API, e.g. await airline.book({ ...trip, idempotencyKey }).
  void idempotencyKey;
  return { kind: 'flight', confirmation: `FL-${trip.tripId}` };
}

/** Books the hotel for the trip's nights. */
export async function bookHotel(trip: TripRequest): Promise<Booking> {
  if (trip.nights <= 0) {
    throw ApplicationFailure.nonRetryable(
      `a stay needs at least one night, got ${trip.nights}`,
      'InvalidStay',
    );
  }
  return { kind: 'hotel', confirmation: `HT-${trip.tripId}` };
}

/** Rents the car. There are no cars in Atlantis: a sample of a failure that no retry can fix. */
export async function bookCar(trip: TripRequest): Promise<Booking> {
  if (trip.destination === 'Atlantis') {
    throw ApplicationFailure.nonRetryable(`no cars available in ${trip.destination}`, 'NoCarsAvailable');
  }
  return { kind: 'car', confirmation: `CR-${trip.tripId}` };
}

/** Cancels the trip's flight, if there is one. */
export async function cancelFlight(trip: TripRequest): Promise<void> {
  void trip;
}

/** Cancels the trip's hotel room, if there is one. */
export async function cancelHotel(trip: TripRequest): Promise<void> {
  void trip;
}

/** Cancels the trip's car, if there is one. */
export async function cancelCar(trip: TripRequest): Promise<void> {
  void trip;
}
