/**
 * The dev server's default port. 7466 spells "RING" on a phone keypad; it is unassigned by IANA and
 * does not collide with Temporal's 7233, so a Temporal dev server and `wf dev` can run side by side.
 */
export const DEFAULT_PORT = 7466;

/** Loopback only: the dev server has no authentication. */
export const DEFAULT_HOST = '127.0.0.1';

/** Where clients and the CLI look for a dev server when neither `--address` nor WF_ADDRESS is set. */
export const DEFAULT_ADDRESS = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/** Activities one engine runs at once unless told otherwise (`--max-concurrent-activities`); more wait their turn. */
export const DEFAULT_MAX_CONCURRENT_ACTIVITIES = 100;
