const BRAND = Symbol.for('wf.CompleteAsyncError');

/**
 * Thrown by an activity to say it will be completed later, from outside, by its task token
 * (`client.activity.complete(taskToken, result)`, `.fail`, `.heartbeat`). The attempt stays open
 * until then, or until one of its timeouts fires.
 * @example
 * export async function requestApproval(request: Request): Promise<string> {
 *   await approvals.send({ ...request, token: activityInfo().base64TaskToken });
 *   throw new CompleteAsyncError();
 * }
 */
export class CompleteAsyncError extends Error {
  override name = 'CompleteAsyncError';
  constructor(message = 'the activity will be completed asynchronously by its task token') {
    super(message);
  }

  /** True for a CompleteAsyncError of any copy of wfkit. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
Object.defineProperty(CompleteAsyncError.prototype, BRAND, { value: true, enumerable: false });
