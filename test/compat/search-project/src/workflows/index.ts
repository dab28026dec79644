import {
  condition,
  defineSearchAttributeKey,
  defineSignal,
  SearchAttributeType,
  setHandler,
  upsertSearchAttributes,
  upsertTypedSearchAttributes,
  workflowInfo,
} from 'wfkit/workflow';

export const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const Priority = defineSearchAttributeKey('Priority', SearchAttributeType.INT);
export const shipped = defineSignal('shipped');

/** Tags itself for listing, waits to be shipped, then drops its priority: Temporal's usual pattern. */
export async function tracked(
  customerId: string,
): Promise<{ all: Record<string, unknown[]>; customer?: string }> {
  let done = false;
  setHandler(shipped, () => {
    done = true;
  });
  upsertTypedSearchAttributes([{ key: CustomerId, value: customerId }]);
  upsertSearchAttributes({ Priority: [2] });
  await condition(() => done);
  upsertTypedSearchAttributes([{ key: Priority, value: null }]);
  const info = workflowInfo();
  const customer = info.typedSearchAttributes.get(CustomerId);
  return { all: info.searchAttributes, ...(customer === undefined ? {} : { customer }) };
}
