import { describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS_HEADER_ENV, clientAddress, ipv6Network } from './client-address';

describe('client addresses for sign-in limits', () => {
  it('count an IPv6 address by its /64, so one host cannot guess from endless "fresh" addresses', () => {
    expect(ipv6Network('2001:db8:0:1:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(ipv6Network('2001:db8:0:1::2')).toBe('2001:db8:0:1::/64');
    expect(ipv6Network('2001:0db8:0000:0001:0:0:0:9')).toBe('2001:db8:0:1::/64');
    expect(ipv6Network('::1')).toBe('0:0:0:0::/64');
  });

  it('keep IPv4 and IPv4-mapped addresses whole', () => {
    expect(ipv6Network('203.0.113.7')).toBe('203.0.113.7');
    expect(ipv6Network('::ffff:203.0.113.7')).toBe('::ffff:203.0.113.7');
  });

  it('use the web server socket header only when the web server set it up', () => {
    const headers = { 'x-cutover-client-address': '2001:db8::1:2' };
    expect(clientAddress(headers, { [CLIENT_ADDRESS_HEADER_ENV]: '1' })).toBe('2001:db8:0:0::/64');
    expect(clientAddress(headers, {})).toBe('unknown');
  });
});
