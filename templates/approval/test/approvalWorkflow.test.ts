import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runReplayHistory, TestWorkflowEnvironment } from 'wfkit/testing';
import * as activities from '../src/activities/index.js';
import {
  type ApprovalRequest,
  approvalWorkflow,
  approve,
  reject,
  requestChanges,
  status,
} from '../src/workflows/index.js';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
const request: ApprovalRequest = {
  requestId: 'approval-1',
  topic: 'Raise the Q3 ads budget',
  requester: 'ada',
};
const DAY = 24 * 60 * 60 * 1000;

let env: TestWorkflowEnvironment | undefined;
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

async function activityTypes(workflowId: string): Promise<string[]> {
  const history = (await env?.history(workflowId)) ?? [];
  return history.flatMap((e) => (e.type === 'ActivityTaskScheduled' ? [e.activityType] : []));
}

describe('approvalWorkflow', () => {
  it('drafts, waits for approval, then sends the approved draft', async () => {
    const sent: (string | undefined)[] = [];
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        sendProposal: async (_r: ApprovalRequest, draft: string | undefined) => {
          sent.push(draft);
        },
      },
    });
    const handle = await env.client.start(approvalWorkflow, { workflowId: 'a-1', args: [request] });
    await expect.poll(async () => (await handle.query(status)).state).toBe('awaiting approval');
    await handle.signal(approve, 'grace');
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'approved', decidedBy: 'grace', revision: 1 });
    expect(sent).toEqual([result.draft]);
    expect(await activityTypes('a-1')).toEqual(['draftProposal', 'sendProposal']);
  });

  it('redrafts on requestChanges and answers with the new draft', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, activities });
    const handle = await env.client.start(approvalWorkflow, { workflowId: 'a-2', args: [request] });
    await expect.poll(async () => (await handle.query(status)).state).toBe('awaiting approval');
    const draft = await handle.executeUpdate(requestChanges, { args: ['Cite the Q2 numbers'] });
    expect(draft).toContain('Proposal v2');
    expect(draft).toContain('Cite the Q2 numbers');
    expect(await handle.query(status)).toMatchObject({ revision: 2, comments: ['Cite the Q2 numbers'] });
    await handle.signal(reject, 'grace', 'too expensive');
    expect(await handle.result()).toMatchObject({ state: 'rejected', reason: 'too expensive', draft });
    expect(await activityTypes('a-2')).toEqual(['draftProposal', 'draftProposal']);
  });

  it('rejects an empty change request in its validator, recording nothing', async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({ workflowsPath, activities });
    const handle = await env.client.start(approvalWorkflow, { workflowId: 'a-3', args: [request] });
    await expect.poll(async () => (await handle.query(status)).state).toBe('awaiting approval');
    await expect(handle.executeUpdate(requestChanges, { args: ['   '] })).rejects.toThrow(/comment is empty/);
    expect(await handle.query(status)).toMatchObject({ revision: 1, comments: [] });
    await handle.signal(approve, 'grace');
    await handle.result();
  });

  it('escalates when nobody decides within 3 days', async () => {
    const escalated: string[] = [];
    env = await TestWorkflowEnvironment.createTimeSkipping({
      workflowsPath,
      activities: {
        ...activities,
        escalate: async (r: ApprovalRequest) => {
          escalated.push(r.requestId);
        },
      },
    });
    const startedAt = env.currentTimeMs();
    const result = await env.client.execute(approvalWorkflow, { workflowId: 'a-4', args: [request] });
    expect(result.state).toBe('escalated');
    expect(escalated).toEqual(['approval-1']);
    expect(env.currentTimeMs() - startedAt).toBeGreaterThanOrEqual(3 * DAY);
  });

  it('replays the recorded history of a request changed, then approved', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}approval-approved.jsonl`);
  });

  it('replays the recorded history of an escalated request', async () => {
    await runReplayHistory({ workflowsPath }, `${historiesDir}approval-escalated.jsonl`);
  });
});
