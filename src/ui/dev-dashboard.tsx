import { Box, Text } from 'ink';
import { printable } from '../common/printable.js';
import type { RunRow } from './run-board.js';

export interface DevDashboardProps {
  /** First line of the live panel, e.g. the address. */
  title: string;
  /** Runs, most recent first. */
  runs: RunRow[];
  /** Rows shown in the panel. */
  maxRows?: number;
}

const STATUS_COLORS: Record<string, string> = {
  RUNNING: 'cyan',
  COMPLETED: 'green',
  FAILED: 'red',
  TERMINATED: 'red',
  TIMED_OUT: 'red',
  CANCELED: 'yellow',
  CONTINUED_AS_NEW: 'blue',
  PAUSED: 'magenta',
};

/** User text (IDs, names, failure messages) escaped for the terminal, then cut to `width`. */
const cut = (raw: string, width: number) => {
  const text = printable(raw);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

/** The live panel of `wf dev`: the latest runs, their status and last step. Log lines scroll above it. */
export function DevDashboard({ title, runs, maxRows = 8 }: DevDashboardProps) {
  const shown = runs.slice(0, maxRows);
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1}>
      <Text bold>{title}</Text>
      {shown.length === 0 ? (
        <Text dimColor>no runs yet: wf start --type &lt;workflow&gt; --workflow-id &lt;id&gt;</Text>
      ) : (
        shown.map((run) => (
          <Box key={`${run.workflowId}/${run.runId}`}>
            <Box width={26}>
              <Text>{cut(run.workflowId, 25)}</Text>
            </Box>
            <Box width={20}>
              <Text dimColor>{cut(run.workflowType, 19)}</Text>
            </Box>
            <Box width={18}>
              <Text color={STATUS_COLORS[run.status] ?? 'white'}>{run.status}</Text>
            </Box>
            <Box width={6}>
              <Text dimColor>{String(run.events)}</Text>
            </Box>
            <Text>{cut(run.lastEvent, 40)}</Text>
          </Box>
        ))
      )}
      {runs.length > shown.length ? (
        <Text dimColor>…and {runs.length - shown.length} more (wf list)</Text>
      ) : null}
    </Box>
  );
}
