/** What the traveller asked for. */
export interface TripRequest {
  tripId: string;
  traveller: string;
  destination: string;
  nights: number;
}

/** A confirmed booking with one provider. */
export interface Booking {
  kind: 'flight' | 'hotel' | 'car';
  confirmation: string;
}

/** The result of a booked trip. */
export interface Itinerary {
  tripId: string;
  flight: string;
  hotel: string;
  car: string;
}
