import type { ApprovalRequest } from '../workflows/index.js';

/**
 * Drafts the proposal. Here a deterministic stub; in your project, call your model (its answer is
 * recorded in the history, so a replay never calls it again).
 */
export async function draftProposal(request: ApprovalRequest, comments: string[]): Promise<string> {
  const revision = comments.length + 1;
  const addressed = comments.length ? ` Addressed: ${comments.join('; ')}.` : '';
  return `Proposal v${revision} for "${request.topic}" (requested by ${request.requester}).${addressed}`;
}

/** Sends the approved proposal on (email, ticket, pull request...). */
export async function sendProposal(request: ApprovalRequest, draft: string | undefined): Promise<void> {
  void request;
  void draft;
}

/** Tells someone with authority that the request has waited too long. */
export async function escalate(request: ApprovalRequest, waited: string): Promise<void> {
  void request;
  void waited;
}
