import { InvalidArgumentError } from './errors.js';

/** One value of a search attribute. */
export type SearchAttributeValue = string | number | boolean;
/** Search attribute values by key, each a list (Temporal's untyped form). */
export type SearchAttributes = Record<string, SearchAttributeValue[]>;

const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Checks search attributes given by a caller (start option, HTTP body): keys like identifiers, values
 * strings, finite numbers or booleans (a single value stands for a list of one; Dates become ISO
 * strings). Throws InvalidArgumentError naming what is wrong.
 */
export function checkSearchAttributes(what: string, value: unknown): SearchAttributes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `${what} must be an object of search attribute values, e.g. {"CustomerId": ["c-1"]}`,
    );
  }
  const out: SearchAttributes = {};
  for (const [key, raw] of Object.entries(value)) {
    if (!KEY.test(key)) {
      throw new InvalidArgumentError(
        `${what}: ${JSON.stringify(key)} is not a search attribute name (letters, digits and _, not starting with a digit, at most 64)`,
      );
    }
    const list = Array.isArray(raw) ? raw : [raw];
    out[key] = list.map((item) => {
      const value = searchAttributeValueOf(item);
      if (value !== undefined) return value;
      throw new InvalidArgumentError(
        `${what}.${key}: ${JSON.stringify(item) ?? String(item)} is not a string, finite number or boolean`,
      );
    });
  }
  return out;
}

/** A value as search attributes record it (a Date as its ISO string), or undefined when it cannot be one. */
export function searchAttributeValueOf(item: unknown): SearchAttributeValue | undefined {
  if (item instanceof Date) return item.toISOString();
  if (typeof item === 'string' || typeof item === 'boolean') return item;
  if (typeof item === 'number' && Number.isFinite(item)) return item;
  return undefined;
}

/** Merges an upsert over earlier attributes: an empty list removes the key. */
export function mergeSearchAttributes(base: SearchAttributes, update: SearchAttributes): SearchAttributes {
  const next = { ...base };
  for (const [key, values] of Object.entries(update)) {
    if (values.length === 0) delete next[key];
    else next[key] = values;
  }
  return next;
}
