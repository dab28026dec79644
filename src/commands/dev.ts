import * as Flags from '@oclif/core/flags';
import { LocalCommand, projectFlags, serverFlags, serverOptionsOf } from './base.js';

export class Dev extends LocalCommand {
  static override summary = 'Run the local dev server: workflows run durably, histories kept in .wf/.';
  static override description =
    'Bundles the workflows (src/workflows/index.ts) and loads the activities (src/activities/index.ts), opens the ' +
    'crash-safe store in .wf/ and resumes every open run where it stopped, then serves the HTTP API on loopback for ' +
    '`wf start`, `wf signal`, `wf show` and wfkit/client, and the web UI on the same port ' +
    '(http://127.0.0.1:7466/: every run, live; docs/web-ui.md). Stop it with Ctrl+C; runs continue at the next start.';
  static override examples = [
    '<%= config.bin %> dev',
    '<%= config.bin %> dev --port 8080 --store /tmp/wf-store',
    '<%= config.bin %> dev --project examples/order-saga',
    '<%= config.bin %> dev --log-format json | jq -c \'select(.kind == "event") | .event.type\'',
  ];
  static override flags = {
    ...projectFlags,
    ...serverFlags,
    port: Flags.integer({ description: 'Port of the HTTP API (on 127.0.0.1). Default: 7466.' }),
    plain: Flags.boolean({
      description:
        'Print plain lines instead of the live terminal view (the default when stdout is not a terminal or CI is set).',
    }),
    'log-format': Flags.option({
      description:
        'text: lines for people (the live view in a terminal). json: one JSON object per line for every message, ' +
        'event and workflow log line ({"ts","kind":"message|event|log|paused|resumed|time",...}), never the live view.',
      options: ['text', 'json'] as const,
      default: 'text' as const,
    })(),
    watch: Flags.boolean({
      description: 'Reload the code when files under src/ change (--no-watch to turn off).',
      default: true,
      allowNo: true,
    }),
    migrate: Flags.boolean({
      description: 'With a postgres:// store: create or upgrade its schema on start.',
    }),
    schema: Flags.string({ description: 'With a postgres:// store: its PostgreSQL schema. Default: wf.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Dev);
    const { resolveProject } = await import('../devserver/project-config.js');
    const config = await resolveProject({
      ...(flags.project ? { dir: flags.project } : {}),
      ...(flags.workflows ? { workflows: flags.workflows } : {}),
      ...(flags.activities ? { activities: flags.activities } : {}),
      ...(flags.store ? { store: flags.store } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
    });
    // esbuild and the workflow thread start on the code while the server's modules load.
    const firstBuild = flags.watch
      ? import('../devserver/first-build.js').then(({ startFirstBuild }) => startFirstBuild(config))
      : undefined;
    firstBuild?.catch(() => undefined); // reported by startDevServer, which awaits it
    const { startDevServer } = await import('../devserver/dev-server.js');
    const json = flags['log-format'] === 'json';
    const live = process.stdout.isTTY && !flags.plain && !json && !process.env.CI;
    const { jsonReporter, plainReporter } = await import('../devserver/dev-reporter.js');
    const { bufferedLines } = await import('../devserver/line-buffer.js');
    const write = bufferedLines((text) => process.stdout.write(text));
    const view = live
      ? (await import('../ui/dev-live-view.js')).startLiveView({ title: 'wf dev: starting' })
      : undefined;
    const reporter = view ?? (json ? jsonReporter(write) : plainReporter(write));
    let server: Awaited<ReturnType<typeof startDevServer>>;
    try {
      server = await startDevServer({
        config,
        watch: flags.watch,
        ...(firstBuild ? { firstBuild } : {}),
        reporter,
        ...serverOptionsOf(flags),
        ...(flags.migrate ? { migrate: true } : {}),
        ...(flags.schema ? { schema: flags.schema } : {}),
      });
    } catch (error) {
      view?.close();
      throw error;
    }
    if (view) {
      view.setTimeOffset(server.local.clock.offsetMs);
      view.watchProgress(server.local.engine);
      view.setTitle(`wf dev · ${server.url} · store ${server.local.storeWhere} · Ctrl+C to stop`);
    } else reporter.message('info', 'Press Ctrl+C to stop.');
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        const done = () => {
          view?.close();
          resolve();
        };
        reporter.message('info', 'stopping: open runs continue at the next `wf dev`');
        server.close().then(done, done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    // The store is closed and its lock released. An activity that ignores its cancellation signal (a
    // poll loop, a pending socket) would keep the event loop, and so wf dev, alive for ever after
    // Ctrl+C: give output a moment to drain, then exit. The timer does not itself keep the process up.
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  }
}
