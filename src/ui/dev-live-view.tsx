import { render } from 'ink';
import type { EventNotice } from '../protocol/service.js';
import { DevDashboard } from './dev-dashboard.js';
import { RunBoard } from './run-board.js';

export interface LiveView {
  log(line: string): void;
  event(notice: EventNotice): void;
  paused(run: { workflowId: string; runId: string }, reason: string | undefined): void;
  setTitle(title: string): void;
  close(): void;
}

/** Renders the dev dashboard with ink, redrawing at most every `intervalMs`. For terminals only. */
export function startLiveView(options: { title: string; intervalMs?: number }): LiveView {
  const board = new RunBoard();
  let title = options.title;
  let timer: NodeJS.Timeout | undefined;
  const view = () => <DevDashboard title={title} runs={board.list()} />;
  // With patchConsole, ink writes console output above the live panel and redraws the panel under it.
  const instance = render(view(), { patchConsole: true, exitOnCtrlC: false });
  const redraw = () => {
    timer = undefined;
    instance.rerender(view());
  };
  const schedule = () => {
    timer ??= setTimeout(redraw, options.intervalMs ?? 50);
  };
  return {
    log(line) {
      console.log(line);
    },
    event(notice) {
      board.apply(notice);
      schedule();
    },
    paused(run, reason) {
      board.setPaused(run.workflowId, run.runId, reason !== undefined);
      schedule();
    },
    setTitle(next) {
      title = next;
      schedule();
    },
    close() {
      if (timer) clearTimeout(timer);
      redraw();
      instance.unmount();
    },
  };
}
