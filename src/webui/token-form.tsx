/** Asks for the API token of a server started with one (`wf serve --api-token`). */
import { useState } from 'react';

export function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <form
      className="card token"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim()) onToken(token.trim());
      }}
    >
      <h2>This server needs its API token</h2>
      <p className="muted">
        It was started with <code>--api-token</code> (or <code>WF_API_TOKEN</code>). The token is kept in this
        tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>.
      </p>
      <label>
        API token{' '}
        <input
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-label="API token"
        />
      </label>{' '}
      <button type="submit">Unlock</button>
    </form>
  );
}
