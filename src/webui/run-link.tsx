/** A link to a run, built from its IDs (never from a payload), opened without reloading the page. */
import { navigate, runHref } from './routes.js';

export function RunLink({
  workflowId,
  runId,
  children,
}: {
  workflowId: string;
  runId?: string;
  children: string;
}) {
  const href = runHref(workflowId, runId);
  return (
    <a
      href={href}
      onClick={(e) => {
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
