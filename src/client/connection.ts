import { WfError } from '../common/errors.js';
import type { WorkflowService } from '../protocol/service.js';
import { HttpWorkflowService } from './http-transport.js';

/** Options of `Connection.connect` (Temporal's names where they fit). */
export interface ConnectionOptions {
  /**
   * The `wf dev` / `wf serve` server: `host:port` (Temporal's form) or a URL
   * (`http://127.0.0.1:7466`). Default: WF_ADDRESS, then http://127.0.0.1:7466.
   */
  address?: string;
  /** The server's API token (Temporal's name). Default: WF_API_TOKEN. */
  apiKey?: string;
  /** The same as `apiKey` (the name `connect()` uses). */
  apiToken?: string;
}

/**
 * A connection to a wf server over HTTP, for Temporal-style construction:
 * `new Client({ connection: await Connection.connect({ address }) })`. Close it when done.
 * @example
 * const connection = await Connection.connect({ address: 'localhost:7466' });
 * const client = new Client({ connection });
 * await client.workflow.execute(orderWorkflow, { workflowId: 'order-1', args: [order], taskQueue: 'orders' });
 * await connection.close();
 */
export class Connection {
  private constructor(
    /** The service the clients over this connection call. */
    readonly service: WorkflowService,
    private readonly release: () => Promise<void>,
  ) {}

  /** Connects and checks that the server answers; fails with UNAVAILABLE, saying where, if not. */
  static async connect(options: ConnectionOptions = {}): Promise<Connection> {
    const connection = Connection.lazy(options);
    try {
      await connection.service.cluster();
    } catch (error) {
      await connection.close();
      throw error instanceof WfError && error.code !== 'INTERNAL'
        ? error
        : new WfError('UNAVAILABLE', `could not reach the wf server: ${(error as Error).message}`, {
            cause: error,
          });
    }
    return connection;
  }

  /** A connection that makes no call until a client uses it. */
  static lazy(options: ConnectionOptions = {}): Connection {
    const apiToken = options.apiKey ?? options.apiToken;
    const service = new HttpWorkflowService({
      ...(options.address === undefined ? {} : { address: options.address }),
      ...(apiToken === undefined ? {} : { apiToken }),
    });
    return new Connection(service, () => service.close());
  }

  /** A connection over a service already in this process (the in-process engine). */
  static fromService(service: WorkflowService): Connection {
    return new Connection(service, async () => undefined);
  }

  /** Closes the connection's sockets. Clients over it must not be used afterwards. */
  close(): Promise<void> {
    return this.release();
  }
}
