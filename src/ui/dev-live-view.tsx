import { render } from 'ink';
import { type DevReporter, plainReporter } from '../devserver/dev-reporter.js';
import type { RunKey } from '../history/store.js';
import type { WorkflowService } from '../protocol/service.js';
import { DevDashboard } from './dev-dashboard.js';
import { ProgressPoller } from './progress-poller.js';
import { RunBoard } from './run-board.js';

/** The live terminal view of `wf dev`: a DevReporter that draws the dashboard. */
export interface LiveView extends DevReporter {
  log(line: string): void;
  setTitle(title: string): void;
  /** The clock offset to show (0 hides it). */
  setTimeOffset(offsetMs: number): void;
  /** Starts asking the runs shown for their `progress` query (see ProgressPoller). */
  watchProgress(service: Pick<WorkflowService, 'query'>): void;
  close(): void;
}

const MAX_ROWS = 8;

/** Renders the dev dashboard with ink, redrawing at most every `intervalMs`. For terminals only. */
export function startLiveView(options: {
  title: string;
  intervalMs?: number;
  timeOffsetMs?: number;
}): LiveView {
  const board = new RunBoard();
  let title = options.title;
  let timeOffsetMs = options.timeOffsetMs ?? 0;
  let timer: NodeJS.Timeout | undefined;
  let poller: ProgressPoller | undefined;
  const view = () => (
    <DevDashboard title={title} runs={board.list()} maxRows={MAX_ROWS} timeOffsetMs={timeOffsetMs} />
  );
  // With patchConsole, ink writes console output above the live panel and redraws the panel under it.
  const instance = render(view(), { patchConsole: true, exitOnCtrlC: false });
  const redraw = () => {
    timer = undefined;
    instance.rerender(view());
  };
  const schedule = () => {
    timer ??= setTimeout(redraw, options.intervalMs ?? 50);
  };
  const shown = (run: RunKey) =>
    board.list(MAX_ROWS).some((row) => row.workflowId === run.workflowId && row.runId === run.runId);
  const log = (line: string) => console.log(line);
  // Lines scroll above the panel as `wf dev` prints them without a terminal.
  const lines = plainReporter(log);
  return {
    log,
    message: lines.message,
    workflowLog: lines.workflowLog,
    activityLog: lines.activityLog,
    event(notice) {
      lines.event(notice);
      board.apply(notice);
      poller?.event(notice);
      schedule();
    },
    paused(run, reason) {
      lines.paused(run, reason);
      board.setPaused(run.workflowId, run.runId, reason);
      poller?.paused(run, reason);
      schedule();
    },
    timeSkipped(now, offsetMs) {
      lines.timeSkipped(now, offsetMs);
      timeOffsetMs = offsetMs;
      schedule();
    },
    setTimeOffset(offsetMs) {
      timeOffsetMs = offsetMs;
      schedule();
    },
    setTitle(next) {
      title = next;
      schedule();
    },
    watchProgress(service) {
      poller = new ProgressPoller({
        service,
        wanted: shown,
        onProgress: (run, progress) => {
          board.setProgress(run.workflowId, run.runId, progress);
          schedule();
        },
      });
    },
    close() {
      poller?.close();
      if (timer) clearTimeout(timer);
      redraw();
      instance.unmount();
    },
  };
}
