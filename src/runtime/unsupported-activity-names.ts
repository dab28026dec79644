/**
 * Names `@temporalio/activity` exports that `wfkit/activity` does not, each with why and what to use
 * instead. Loading an activities module that imports one of them from `wfkit/activity` fails with
 * this text (docs/temporal.md, Activities, lists them too).
 */
export const UNSUPPORTED_ACTIVITY_NAMES: Readonly<Record<string, string>> = {
  getClient:
    "wf gives activities no client of their own. Create one with connect() from 'wfkit/client' (it reaches the server through WF_ADDRESS)",
  metricMeter: 'wf records no metrics. Emit them with your own metrics library',
  cancellationDetails:
    'wf has no activity pause or reset. Read the reason from cancellationSignal.reason (a CancelledFailure or TimeoutFailure)',
  asyncLocalStorage: "it is internal to Temporal's SDK. Use Context.current()",
};

/** The message for a name imported from wfkit/activity that wfkit/activity does not export. */
export function unsupportedActivityNameMessage(name: string): string {
  const why = Object.hasOwn(UNSUPPORTED_ACTIVITY_NAMES, name) ? UNSUPPORTED_ACTIVITY_NAMES[name] : undefined;
  if (why !== undefined) {
    return `${name} (imported from wfkit/activity) is not supported by wf: ${why}. See docs/temporal.md (Activities).`;
  }
  return `${name} is not exported by wfkit/activity: check the spelling, or see docs/temporal.md for what wf provides.`;
}
