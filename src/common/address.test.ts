import { describe, expect, it } from 'vitest';
import { parseAddress } from './address.js';

describe('parseAddress', () => {
  it.each([
    ['127.0.0.1:7466', 'http://127.0.0.1:7466'],
    ['localhost:8080', 'http://localhost:8080'],
    [':9000', 'http://127.0.0.1:9000'],
    ['9000', 'http://127.0.0.1:9000'],
    ['localhost', 'http://localhost:7466'],
    ['[::1]:7466', 'http://[::1]:7466'],
    ['[::1]', 'http://[::1]:7466'],
    ['http://127.0.0.1:7466', 'http://127.0.0.1:7466'],
    ['http://127.0.0.1:7466/', 'http://127.0.0.1:7466'],
    ['https://wf.example.test:8443', 'https://wf.example.test:8443'],
    ['HTTP://LOCALHOST:7466', 'http://localhost:7466'],
    ['http://[::1]:7466', 'http://[::1]:7466'],
    ['  127.0.0.1:7466 ', 'http://127.0.0.1:7466'],
  ])('reads %j as %s', (input, expected) => {
    expect(parseAddress(input)).toBe(expected);
  });

  it.each([
    ['', /is empty/],
    ['grpc://127.0.0.1:7233', /scheme grpc:\/\//],
    ['127.0.0.1:port', /"port" where a port number goes/],
    ['127.0.0.1:70000', /outside 1-65535/],
    [':0', /outside 1-65535/],
    ['::1:7466', /IPv6 address without brackets/],
    ['http://127.0.0.1:7466/api', /has a path/],
    ['http://user:pw@127.0.0.1:7466', /user name or password/],
    ['-bad:1', /does not start with a host name/],
  ])('refuses %j, saying why and what to type', (input, why) => {
    expect(() => parseAddress(input)).toThrow(why);
    expect(() => parseAddress(input)).toThrow(/use host:port, e\.g\. 127\.0\.0\.1:7466/);
  });
});
