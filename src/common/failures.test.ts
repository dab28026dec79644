import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { errorToFailure, failureToError } from './failure-convert.js';
import type { FailureInfo } from './failure-info.js';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
  WfFailure,
} from './failures.js';

/** The failures module bundled as the sandbox will bundle it, evaluated in a fresh vm realm. */
function loadInOtherRealm(): Record<string, unknown> & { context: vm.Context } {
  const out = buildSync({
    entryPoints: [fileURLToPath(new URL('./failure-convert.ts', import.meta.url))],
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  const context = vm.createContext({ module: { exports: {} } });
  vm.runInContext(out.outputFiles[0]!.text, context);
  return { ...(context.module.exports as Record<string, unknown>), context };
}

describe('failure classes', () => {
  it('bundles without Node built-ins, for the sandbox', () => {
    const out = buildSync({
      entryPoints: [fileURLToPath(new URL('./failure-convert.ts', import.meta.url))],
      bundle: true,
      format: 'cjs',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
    });
    expect(out.outputFiles[0]!.text).not.toMatch(/require\(["']node:/);
  });

  it('keeps instanceof working for failures built in another vm realm', () => {
    const { context } = loadInOtherRealm();
    // The failure-convert bundle exports failureToError; use it to build failures inside the realm.
    const built = vm.runInContext(
      `module.exports.failureToError({ name: 'ActivityFailure', message: 'activity charge failed', activityType: 'charge',
         cause: { name: 'ApplicationFailure', message: 'declined', type: 'CardDeclined', nonRetryable: true } })`,
      context,
    ) as Error & { cause: unknown };
    expect(built instanceof Error).toBe(false); // a different realm's Error
    expect(built).toBeInstanceOf(ActivityFailure);
    expect(built).toBeInstanceOf(WfFailure);
    expect(built).not.toBeInstanceOf(ApplicationFailure);
    expect(built.cause).toBeInstanceOf(ApplicationFailure);
    expect(built.cause).not.toBeInstanceOf(TimeoutFailure);
    // And back: the host serializes the other realm's error faithfully.
    expect(errorToFailure(built)).toMatchObject({
      name: 'ActivityFailure',
      activityType: 'charge',
      cause: { name: 'ApplicationFailure', type: 'CardDeclined', nonRetryable: true },
    });
  });

  it('keeps instanceof precise for user subclasses', () => {
    class MyFailure extends ApplicationFailure {}
    expect(new MyFailure('x')).toBeInstanceOf(MyFailure);
    expect(new MyFailure('x')).toBeInstanceOf(ApplicationFailure);
    expect(ApplicationFailure.create({ message: 'y' })).not.toBeInstanceOf(MyFailure);
    expect({}).not.toBeInstanceOf(WfFailure);
    expect((null as unknown) instanceof WfFailure).toBe(false);
  });

  it('names each class and builds ApplicationFailures from factories', () => {
    const nr = ApplicationFailure.nonRetryable('card declined', 'CardDeclined', { orderId: 1 });
    expect(nr).toMatchObject({
      name: 'ApplicationFailure',
      message: 'card declined',
      type: 'CardDeclined',
      nonRetryable: true,
      details: [{ orderId: 1 }],
    });
    expect(ApplicationFailure.retryable('flaky')).toMatchObject({ nonRetryable: false, type: 'Error' });
    expect(new TimeoutFailure(undefined, 'HEARTBEAT').message).toBe('HEARTBEAT timeout');
    expect(new CancelledFailure().name).toBe('CancelledFailure');
    expect(new TerminatedFailure().name).toBe('TerminatedFailure');
    expect(new ChildWorkflowFailure(undefined, 'child').message).toBe('child workflow child failed');
  });
});

describe('failureToError and errorToFailure', () => {
  const cases: [FailureInfo, abstract new (...a: never[]) => unknown][] = [
    [
      { name: 'ApplicationFailure', message: 'm', type: 'T', nonRetryable: true, details: [1] },
      ApplicationFailure,
    ],
    [{ name: 'ActivityFailure', message: 'm', activityType: 'charge' }, ActivityFailure],
    [{ name: 'ChildWorkflowFailure', message: 'm', workflowType: 'child' }, ChildWorkflowFailure],
    [{ name: 'TimeoutFailure', message: 'm', timeoutType: 'START_TO_CLOSE' }, TimeoutFailure],
    [{ name: 'CancelledFailure', message: 'm' }, CancelledFailure],
    [{ name: 'TerminatedFailure', message: 'm' }, TerminatedFailure],
  ];

  for (const [info, cls] of cases) {
    it(`round-trips ${info.name}`, () => {
      const err = failureToError(info);
      expect(err).toBeInstanceOf(cls);
      expect(err.message).toBe('m');
      const { stack: _stack, ...back } = errorToFailure(err);
      expect(back).toMatchObject(info);
    });
  }

  it('turns a plain error into an ApplicationFailure typed by its class name', () => {
    const info = errorToFailure(new TypeError('x is not a function'));
    expect(info).toMatchObject({ name: 'TypeError', type: 'TypeError', message: 'x is not a function' });
    expect(info.stack).toMatch(/TypeError/);
    const err = failureToError(info);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'TypeError', nonRetryable: false });
    expect(err.stack).toBe(info.stack);
  });

  it('keeps cause chains and cuts cycles', () => {
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    (inner as Error & { cause?: unknown }).cause = outer;
    let info: FailureInfo | undefined = errorToFailure(outer);
    let depth = 0;
    while (info) {
      depth++;
      info = info.cause;
    }
    expect(depth).toBe(33);
    const err = failureToError({ name: 'Error', message: 'a', cause: { name: 'Error', message: 'b' } });
    expect((err.cause as Error).message).toBe('b');
  });

  it('serializes thrown non-errors', () => {
    expect(errorToFailure('boom')).toEqual({ name: 'Error', type: 'Error', message: 'boom' });
    expect(errorToFailure({ code: 1 })).toEqual({ name: 'Error', type: 'Error', message: '{"code":1}' });
    expect(errorToFailure(undefined).message).toBe('undefined');
  });
});
