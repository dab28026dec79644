import { WfCommand } from './base.js';

export class Cluster extends WfCommand {
  static override summary = 'Show the servers working on the store and the build of the code each runs.';
  static override description =
    'On a PostgreSQL store shared by several `wf serve` processes, lists every server seen within two leases: its ' +
    'name in the leases, host and pid, the build of the workflow code it runs (a hash of its bundle) and how many ' +
    'open runs it holds. During a rolling deploy this shows which builds are live; `wf list` shows which build wrote ' +
    'each run. On a store directory there is one server: the one you asked.';
  static override examples = [
    '<%= config.bin %> cluster',
    '<%= config.bin %> cluster --address db-host:7466 -o json',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Cluster);
    const { clusterInfo } = await import('../client/operations.js');
    const info = await clusterInfo({ address: flags.address, apiToken: flags['api-token'] });
    if (flags.output === 'json') {
      this.printJson(info);
      return;
    }
    const { printable } = await import('../common/printable.js');
    this.log(
      info.store === 'shared' ? 'store: shared by every server below' : 'store: a directory, one server',
    );
    const header = ['SERVER', 'HOST', 'PID', 'BUILD', 'RUNS', 'LAST SEEN'];
    const rows = info.servers.map((s) => [
      printable(s.owner),
      printable(s.host),
      String(s.pid),
      printable(s.buildId ?? '-'),
      String(s.heldRuns),
      s.lastSeen ?? '-',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows])
      this.log(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    const builds = new Set(info.servers.map((s) => s.buildId ?? '-'));
    if (builds.size > 1)
      this.log(`${builds.size} builds are live: a rolling deploy is under way (or unfinished).`);
  }
}
