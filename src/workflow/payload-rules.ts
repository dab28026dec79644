import { payloadProblem } from '../common/json-payload.js';
import type { Command } from './protocol.js';

/**
 * Why a command's payload (arguments, a result, a failure's details) cannot be recorded, or
 * undefined. Checked when workflow code issues the command, so the workflow fails with a TypeError
 * at that call, as `sleep(-1)` does, instead of the host refusing the append later.
 */
export function commandPayloadProblem(command: Command): string | undefined {
  switch (command.type) {
    case 'scheduleActivity':
      return named(`the arguments of activity ${command.activityType}`, command.args);
    case 'startChild':
      return named(`the arguments of child workflow ${command.workflowType}`, command.args);
    case 'signalExternal':
      return named(`the arguments of signal ${command.signalName}`, command.args);
    case 'continueAsNew':
      return named('the arguments of continueAsNew', command.args);
    case 'completeWorkflow':
      return named("the workflow's result", command.result);
    case 'failWorkflow':
      return named("the workflow's failure (its details)", command.failure);
    case 'completeUpdate':
      return (
        named("the update's result", command.result) ??
        named("the update's failure (its details)", command.failure)
      );
    default:
      return undefined;
  }
}

function named(what: string, value: unknown): string | undefined {
  const problem = payloadProblem(value);
  return problem === undefined ? undefined : `${what} ${problem}`;
}
