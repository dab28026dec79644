import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  log,
  proxyActivities,
  setHandler,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';
import type { Itinerary, TripRequest } from './types.js';

export type { Booking, Itinerary, TripRequest } from './types.js';

const { bookFlight, bookHotel, bookCar, cancelFlight, cancelHotel, cancelCar } = proxyActivities<
  typeof activities
>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** Where the booking is, for `wf query --name status`. */
export const status = defineQuery<string>('status');

/**
 * Books a trip as a saga: flight, then hotel, then car. Before each booking its compensation is
 * registered (a booking whose reply was lost may still exist, and cancelling one that does not is a
 * no-op), and if a step fails for good the compensations run in reverse order, shielded from
 * cancellation, before the workflow fails with the cause.
 */
export async function bookTrip(trip: TripRequest): Promise<Itinerary> {
  let current = 'booking flight';
  setHandler(status, () => current);
  const compensations: (() => Promise<void>)[] = [];
  try {
    compensations.unshift(() => cancelFlight(trip));
    const flight = await bookFlight(trip);
    current = 'booking hotel';
    compensations.unshift(() => cancelHotel(trip));
    const hotel = await bookHotel(trip);
    current = 'booking car';
    compensations.unshift(() => cancelCar(trip));
    const car = await bookCar(trip);
    current = 'booked';
    log.info('trip booked', { tripId: trip.tripId });
    return {
      tripId: trip.tripId,
      flight: flight.confirmation,
      hotel: hotel.confirmation,
      car: car.confirmation,
    };
  } catch (error) {
    current = 'compensating';
    log.warn('booking failed, compensating', { tripId: trip.tripId, error: (error as Error).message });
    await CancellationScope.nonCancellable(async () => {
      for (const compensate of compensations) await compensate();
    });
    current = 'failed';
    throw ApplicationFailure.create({
      message: `trip ${trip.tripId} could not be booked: ${(error as Error).message}`,
      type: 'TripBookingFailed',
      nonRetryable: true,
      cause: error as Error,
    });
  }
}
