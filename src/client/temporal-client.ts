import type { AsyncCompletionClient } from './async-completion.js';
import { checkNamespace, WorkflowClient } from './client.js';
import { Connection } from './connection.js';

/** Options of `new Client(...)`, Temporal's names. */
export interface ClientOptions {
  /** From `Connection.connect()`. Default: a connection to WF_ADDRESS or http://127.0.0.1:7466, opened on first use. */
  connection?: Connection;
  /** wf has one namespace, `default`; any other is refused. */
  namespace?: string;
}

/**
 * Temporal's high-level client: workflows under `client.workflow`, async activity completion
 * under `client.activity`. `connect()` gives the same client in one call.
 * @example
 * const client = new Client({ connection: await Connection.connect({ address: 'localhost:7466' }) });
 * const handle = await client.workflow.start(orderWorkflow, { workflowId: 'order-1', taskQueue: 'orders', args: [order] });
 * console.log(await handle.result());
 * await client.connection.close();
 */
export class Client {
  readonly connection: Connection;
  readonly options: { namespace: string };
  /** Start, signal, query, update and list workflows. */
  readonly workflow: WorkflowClient;
  /** Complete, fail or heartbeat activities that wait for async completion, by task token. */
  readonly activity: AsyncCompletionClient;

  constructor(options: ClientOptions = {}) {
    checkNamespace(options.namespace);
    this.connection = options.connection ?? Connection.lazy();
    this.options = { namespace: 'default' };
    this.workflow = new WorkflowClient(this.connection.service);
    this.activity = this.workflow.activity;
  }
}
