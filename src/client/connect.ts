import { WorkflowClient } from './client.js';
import { HttpWorkflowService } from './http-transport.js';

export interface ConnectOptions {
  /** Base URL of the dev server. Default: WF_ADDRESS, then http://127.0.0.1:7466. */
  address?: string;
  /** The server's API token (`wf serve` off loopback requires one). Default: WF_API_TOKEN. */
  apiToken?: string;
}

/**
 * A WorkflowClient talking to a running `wf dev` server over HTTP. Close it when done: it keeps
 * connections open.
 * @example
 * const client = connect();
 * const handle = await client.start(orderWorkflow, { workflowId: 'order-1', args: [order] });
 * console.log(await handle.result());
 * await client.close();
 */
export function connect(options: ConnectOptions = {}): WorkflowClient {
  const service = new HttpWorkflowService({
    ...(options.address === undefined ? {} : { address: options.address }),
    ...(options.apiToken === undefined ? {} : { apiToken: options.apiToken }),
  });
  return new WorkflowClient(service, { onClose: () => service.close() });
}
