import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';
import { InvalidArgumentError } from './errors.js';

const EXAMPLES = `e.g. 127.0.0.1:${DEFAULT_PORT}, :${DEFAULT_PORT}, http://localhost:${DEFAULT_PORT} or [::1]:${DEFAULT_PORT}`;

/**
 * The base URL of a dev server from an address as people type it (`--address`, WF_ADDRESS):
 * `host:port` (as Temporal's CLI takes it), `:port` (loopback), `[::1]:port`, a bare port, a bare
 * host (default port), or a URL `http(s)://host[:port]`. Returns the URL's origin, e.g.
 * `http://127.0.0.1:7466`; anything else is an InvalidArgumentError that shows the accepted forms.
 */
export function parseAddress(input: string): string {
  const text = input.trim();
  const bad = (why: string) =>
    new InvalidArgumentError(`address ${JSON.stringify(input)} ${why}: use host:port, ${EXAMPLES}`);
  if (text === '') throw bad('is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    const protocol = scheme[1]!.toLowerCase();
    if (protocol !== 'http' && protocol !== 'https')
      throw bad(`has the scheme ${protocol}:// (only http:// and https:// are served)`);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw bad('is not a valid URL');
    }
    if (url.hostname === '') throw bad('names no host');
    if (url.username || url.password)
      throw bad('carries a user name or password (the dev server has no login)');
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      throw bad('has a path; the dev server API lives at the root of its address');
    }
    return url.origin;
  }
  if (/^\d+$/.test(text)) return origin(DEFAULT_HOST, port(text, bad));
  if (text.startsWith(':') && !text.slice(1).includes(':'))
    return origin(DEFAULT_HOST, port(text.slice(1), bad));
  const bracketed = /^\[([0-9a-f:.%a-z]+)\](?::(.*))?$/i.exec(text);
  if (bracketed) {
    return origin(`[${bracketed[1]}]`, bracketed[2] === undefined ? DEFAULT_PORT : port(bracketed[2], bad));
  }
  const colons = text.split(':').length - 1;
  if (colons > 1) throw bad('looks like an IPv6 address without brackets (write [::1]:7466)');
  const [host, portText] = colons === 1 ? text.split(':') : [text, undefined];
  if (!host || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(host)) throw bad('does not start with a host name');
  return origin(host, portText === undefined ? DEFAULT_PORT : port(portText, bad));
}

function port(text: string, bad: (why: string) => Error): number {
  if (!/^\d+$/.test(text)) throw bad(`has ${JSON.stringify(text)} where a port number goes`);
  const n = Number(text);
  if (n < 1 || n > 65_535) throw bad(`has the port ${text}, outside 1-65535`);
  return n;
}

function origin(host: string, portNumber: number): string {
  const url = new URL(`http://${host}:${portNumber}`);
  return url.origin;
}
