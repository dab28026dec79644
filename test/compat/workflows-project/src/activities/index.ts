// Activities in the style of Temporal's documentation; only the import differs.
import { ApplicationFailure, Context } from 'wfkit/activity';

/** Runs until it is cancelled (or `seconds` pass), then reports how it ended. */
export async function longReport(seconds: number): Promise<string> {
  const ctx = Context.current();
  try {
    await ctx.sleep(seconds * 1000);
    return 'report finished';
  } catch (err) {
    if (ctx.cancellationSignal.aborted) {
      // Clean-up takes a while: a workflow that waits for the cancellation waits for this too.
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw err;
    }
    throw err;
  }
}

export async function greet(name: string): Promise<string> {
  return `Hello, ${name}!`;
}

export async function chargeCard(amount: number): Promise<string> {
  if (amount > 1000) {
    throw ApplicationFailure.nonRetryable('card declined', 'CardDeclined');
  }
  return `charged ${amount}`;
}

export async function nothing(): Promise<void> {}
