import {
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
} from 'wfkit/workflow';
import type * as activities from '../activities/index.js';

const { draftProposal, sendProposal, escalate } = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** What needs a human's approval. */
export interface ApprovalRequest {
  requestId: string;
  topic: string;
  requester: string;
}

export type ApprovalState = 'drafting' | 'awaiting approval' | 'approved' | 'rejected' | 'escalated';

export interface ApprovalStatus {
  state: ApprovalState;
  draft?: string;
  /** 1 for the first draft, 2 after the first change request... */
  revision: number;
  comments: string[];
  decidedBy?: string;
  reason?: string;
}

/** How long a reviewer has before the request is escalated. */
export const APPROVAL_TIMEOUT = '3 days';

/** Approves the current draft: `wf signal --name approve --input '"grace"'`. */
export const approve = defineSignal<[approver: string]>('approve');
/** Rejects the request: `wf signal --name reject --input '"grace"' --input '"too expensive"'`. */
export const reject = defineSignal<[approver: string, reason: string]>('reject');
/** Asks for a new draft that takes `comment` into account; returns the new draft. */
export const requestChanges = defineUpdate<string, [comment: string]>('requestChanges');
/** The request's state, draft and comments. */
export const status = defineQuery<ApprovalStatus>('status');

/**
 * A human-in-the-loop agent: drafts a proposal (the "AI" activity), then waits durably, up to
 * APPROVAL_TIMEOUT, for a reviewer to approve or reject it. Meanwhile the reviewer may request
 * changes, which redrafts and answers with the new draft. With no decision in time, it escalates.
 */
export async function approvalWorkflow(request: ApprovalRequest): Promise<ApprovalStatus> {
  const current: ApprovalStatus = { state: 'drafting', revision: 0, comments: [] };
  let redrafting = 0;
  setHandler(status, () => ({ ...current, comments: [...current.comments] }));
  setHandler(approve, (approver) => {
    if (current.state !== 'awaiting approval' && current.state !== 'drafting') return;
    current.state = 'approved';
    current.decidedBy = approver;
  });
  setHandler(reject, (approver, reason) => {
    if (current.state !== 'awaiting approval' && current.state !== 'drafting') return;
    current.state = 'rejected';
    current.decidedBy = approver;
    current.reason = reason;
  });
  setHandler(
    requestChanges,
    async (comment) => {
      current.comments.push(comment);
      redrafting++;
      try {
        const draft = await draftProposal(request, [...current.comments]);
        current.draft = draft;
        current.revision++;
        return draft;
      } finally {
        redrafting--;
      }
    },
    {
      validator: (comment) => {
        if (typeof comment !== 'string' || comment.trim() === '') throw new Error('the comment is empty');
        if (current.state !== 'awaiting approval' && current.state !== 'drafting') {
          throw new Error(`the request is already ${current.state}`);
        }
      },
    },
  );

  current.draft = await draftProposal(request, []);
  current.revision++;
  if (current.state === 'drafting') current.state = 'awaiting approval';

  const decided = await condition(
    () => (current.state === 'approved' || current.state === 'rejected') && redrafting === 0,
    APPROVAL_TIMEOUT,
  );
  if (!decided) {
    current.state = 'escalated';
    log.warn('no decision in time, escalating', { requestId: request.requestId });
    await escalate(request, APPROVAL_TIMEOUT);
    return current;
  }
  if (current.state === 'approved') await sendProposal(request, current.draft);
  log.info(`request ${current.state}`, { requestId: request.requestId, by: current.decidedBy });
  return current;
}
