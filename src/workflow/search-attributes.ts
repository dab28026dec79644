import { mergeSearchAttributes, searchAttributeValueOf } from '../common/search-attributes.js';
import type { SearchAttributes, SearchAttributeValue } from '../history/events.js';
import { captureStack, currentRun, type RunState } from './run-state.js';

/** The value types of search attributes (Temporal's names). */
export const SearchAttributeType = {
  TEXT: 'TEXT',
  KEYWORD: 'KEYWORD',
  INT: 'INT',
  DOUBLE: 'DOUBLE',
  BOOL: 'BOOL',
  DATETIME: 'DATETIME',
  KEYWORD_LIST: 'KEYWORD_LIST',
} as const;
export type SearchAttributeType = (typeof SearchAttributeType)[keyof typeof SearchAttributeType];

/** A typed search attribute key, from `defineSearchAttributeKey`. */
export interface SearchAttributeKey<T extends SearchAttributeType = SearchAttributeType> {
  readonly name: string;
  readonly type: T;
}

/** The value a typed key holds. */
export type SearchAttributeValueOf<T extends SearchAttributeType> = T extends 'INT' | 'DOUBLE'
  ? number
  : T extends 'BOOL'
    ? boolean
    : T extends 'DATETIME'
      ? Date
      : T extends 'KEYWORD_LIST'
        ? string[]
        : string;

/** One typed update: a value sets the key, `null` removes it. */
export interface SearchAttributeUpdatePair<T extends SearchAttributeType = SearchAttributeType> {
  key: SearchAttributeKey<T>;
  value: SearchAttributeValueOf<T> | null;
}

/** The run's search attributes by typed key. */
export interface TypedSearchAttributes {
  get<T extends SearchAttributeType>(key: SearchAttributeKey<T>): SearchAttributeValueOf<T> | undefined;
}

/**
 * Names a search attribute with its type, as Temporal does.
 *
 * @example
 * const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
 * upsertTypedSearchAttributes([{ key: CustomerId, value: 'c-1' }]);
 */
export function defineSearchAttributeKey<T extends SearchAttributeType>(
  name: string,
  type: T,
): SearchAttributeKey<T> {
  if (typeof name !== 'string' || name === '') throw new TypeError('a search attribute needs a name');
  if (!Object.values(SearchAttributeType).includes(type)) {
    throw new TypeError(
      `${JSON.stringify(type)} is not a SearchAttributeType (${Object.values(SearchAttributeType).join(', ')})`,
    );
  }
  return { name, type };
}

/**
 * Sets search attributes of this run (merged over the ones it has; an empty list removes a key).
 * Recorded in the history; `wf list --query 'CustomerId = "c-1"'` filters on them.
 *
 * @example
 * upsertSearchAttributes({ CustomerId: ['c-1'], Priority: [2] });
 */
export function upsertSearchAttributes(
  attributes: Record<string, SearchAttributeValue | SearchAttributeValue[] | Date>,
): void {
  const run = currentRun('upsertSearchAttributes');
  const update: SearchAttributes = {};
  for (const [key, value] of Object.entries(attributes)) update[key] = toValues(key, value);
  apply(run, update);
}

/**
 * Sets or removes (value `null`) typed search attributes of this run.
 *
 * @example
 * upsertTypedSearchAttributes([{ key: CustomerId, value: 'c-1' }]);
 */
export function upsertTypedSearchAttributes(pairs: SearchAttributeUpdatePair[]): void {
  const run = currentRun('upsertTypedSearchAttributes');
  const update: SearchAttributes = {};
  for (const { key, value } of pairs) update[key.name] = value === null ? [] : toValues(key.name, value);
  apply(run, update);
}

/** The run's search attributes now (those given at start, then every upsert). */
export function currentSearchAttributes(run: RunState): SearchAttributes {
  return { ...run.searchAttributes() };
}

/** The run's search attributes by typed key. */
export function typedSearchAttributesOf(attributes: SearchAttributes): TypedSearchAttributes {
  return {
    get<T extends SearchAttributeType>(key: SearchAttributeKey<T>): SearchAttributeValueOf<T> | undefined {
      const values = attributes[key.name];
      if (!values || values.length === 0) return undefined;
      if (key.type === 'KEYWORD_LIST') return [...values] as SearchAttributeValueOf<T>;
      if (key.type === 'DATETIME') return new Date(String(values[0])) as SearchAttributeValueOf<T>;
      return values[0] as SearchAttributeValueOf<T>;
    },
  };
}

function apply(run: RunState, update: SearchAttributes): void {
  if (Object.keys(update).length === 0) return;
  run.push({ type: 'upsertSearchAttributes', searchAttributes: update, stack: captureStack() });
  run.setSearchAttributes(mergeSearchAttributes(run.searchAttributes(), update));
}

function toValues(key: string, value: unknown): SearchAttributeValue[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    const recorded = searchAttributeValueOf(item);
    if (recorded !== undefined) return recorded;
    throw new TypeError(
      `search attribute ${JSON.stringify(key)}: ${String(item)} is not a string, finite number, boolean or Date`,
    );
  });
}
