import { InvalidArgumentError } from './errors.js';
import type { SearchAttributes, SearchAttributeValue } from './search-attributes.js';

/** What a list query is evaluated against: a run's summary. */
export interface QueryTarget {
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  startTime: string;
  closeTime?: string;
  searchAttributes?: SearchAttributes;
}

export type ListPredicate = (run: QueryTarget) => boolean;

type Token =
  | { kind: 'name'; text: string; at: number }
  | { kind: 'value'; value: SearchAttributeValue; at: number }
  | { kind: 'op'; text: string; at: number }
  | { kind: 'punct'; text: '(' | ')' | ','; at: number }
  | { kind: 'end'; at: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'STARTS_WITH']);

/**
 * Parses the subset of Temporal's list filter that matters locally:
 * `CustomerId = "c-1" AND ExecutionStatus = "Running"`, with `=`, `!=`, `<`, `<=`, `>`, `>=`,
 * `IN (...)`, `STARTS_WITH`, `AND`, `OR`, `NOT` and parentheses, over WorkflowId, RunId,
 * WorkflowType, ExecutionStatus, StartTime, CloseTime and any search attribute. A search attribute
 * holding a list matches when any of its values does.
 */
export function parseListQuery(text: string): ListPredicate {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i]!;
  const fail = (what: string, at = peek().at): never => {
    throw new InvalidArgumentError(
      `list query: ${what} at position ${at + 1} of ${JSON.stringify(text)}. Example: CustomerId = "c-1" AND ExecutionStatus = "Running"`,
    );
  };
  const isWord = (word: string) => {
    const t = peek();
    return t.kind === 'name' && t.text.toUpperCase() === word;
  };
  const parseOr = (): ListPredicate => {
    let left = parseAnd();
    while (isWord('OR')) {
      i++;
      const right = parseAnd();
      const l = left;
      left = (run) => l(run) || right(run);
    }
    return left;
  };
  const parseAnd = (): ListPredicate => {
    let left = parseNot();
    while (isWord('AND')) {
      i++;
      const right = parseNot();
      const l = left;
      left = (run) => l(run) && right(run);
    }
    return left;
  };
  const parseNot = (): ListPredicate => {
    if (isWord('NOT')) {
      i++;
      const inner = parseNot();
      return (run) => !inner(run);
    }
    const t = peek();
    if (t.kind === 'punct' && t.text === '(') {
      i++;
      const inner = parseOr();
      const close = peek();
      if (close.kind !== 'punct' || close.text !== ')') fail('expected )');
      i++;
      return inner;
    }
    return parseComparison();
  };
  const parseValue = (): SearchAttributeValue => {
    const t = peek();
    if (t.kind !== 'value') return fail('expected a value ("text", a number, true or false)');
    i++;
    return t.value;
  };
  const parseComparison = (): ListPredicate => {
    const nameToken = peek();
    if (nameToken.kind !== 'name' || KEYWORDS.has(nameToken.text.toUpperCase())) {
      return fail(
        'expected an attribute name (WorkflowId, WorkflowType, ExecutionStatus, StartTime, or a search attribute)',
      );
    }
    i++;
    const field = fieldOf(nameToken.text);
    if (isWord('IN')) {
      i++;
      const open = peek();
      if (open.kind !== 'punct' || open.text !== '(') fail('expected ( after IN');
      i++;
      const values: SearchAttributeValue[] = [parseValue()];
      while (peek().kind === 'punct' && (peek() as { text: string }).text === ',') {
        i++;
        values.push(parseValue());
      }
      const close = peek();
      if (close.kind !== 'punct' || close.text !== ')') fail('expected ) to close IN (...)');
      i++;
      return (run) => field(run).some((v) => values.some((w) => compare(v, w) === 0));
    }
    if (isWord('STARTS_WITH')) {
      i++;
      const prefix = String(parseValue());
      return (run) => field(run).some((v) => typeof v === 'string' && v.startsWith(prefix));
    }
    const opToken = peek();
    if (opToken.kind !== 'op') return fail('expected an operator (=, !=, <, <=, >, >=, IN, STARTS_WITH)');
    i++;
    const value = normalize(nameToken.text, parseValue());
    const test = OPERATORS[opToken.text]!;
    if (opToken.text === '!=') return (run) => !field(run).some((v) => compare(v, value) === 0);
    return (run) => field(run).some((v) => test(compare(v, value)));
  };
  const predicate = parseOr();
  if (peek().kind !== 'end') fail('unexpected text');
  return predicate;
}

const OPERATORS: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '!=': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

const STATUS_NAMES: Record<string, string> = {
  running: 'RUNNING',
  completed: 'COMPLETED',
  failed: 'FAILED',
  canceled: 'CANCELED',
  cancelled: 'CANCELED',
  terminated: 'TERMINATED',
  timedout: 'TIMED_OUT',
  timed_out: 'TIMED_OUT',
  continuedasnew: 'CONTINUED_AS_NEW',
  continued_as_new: 'CONTINUED_AS_NEW',
};

function normalize(name: string, value: SearchAttributeValue): SearchAttributeValue {
  if (name === 'ExecutionStatus' && typeof value === 'string')
    return STATUS_NAMES[value.toLowerCase()] ?? value;
  return value;
}

function fieldOf(name: string): (run: QueryTarget) => SearchAttributeValue[] {
  switch (name) {
    case 'WorkflowId':
      return (run) => [run.workflowId];
    case 'RunId':
      return (run) => [run.runId];
    case 'WorkflowType':
      return (run) => [run.workflowType];
    case 'ExecutionStatus':
      return (run) => [run.status];
    case 'StartTime':
      return (run) => [run.startTime];
    case 'CloseTime':
      return (run) => (run.closeTime === undefined ? [] : [run.closeTime]);
    default:
      return (run) => run.searchAttributes?.[name] ?? [];
  }
}

function compare(a: SearchAttributeValue, b: SearchAttributeValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, at: i });
      i++;
      continue;
    }
    const op = /^(!=|<=|>=|=|<|>)/.exec(text.slice(i));
    if (op) {
      tokens.push({ kind: 'op', text: op[1]!, at: i });
      i += op[1]!.length;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
        j++;
      }
      if (j >= text.length) {
        throw new InvalidArgumentError(
          `list query: the string starting at position ${i + 1} is not closed (${c})`,
        );
      }
      tokens.push({ kind: 'value', value, at: i });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: 'value', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (word) {
      const lower = word[0].toLowerCase();
      if (lower === 'true' || lower === 'false')
        tokens.push({ kind: 'value', value: lower === 'true', at: i });
      else tokens.push({ kind: 'name', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw new InvalidArgumentError(
      `list query: unexpected ${JSON.stringify(c)} at position ${i + 1} of ${JSON.stringify(text)}`,
    );
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}
