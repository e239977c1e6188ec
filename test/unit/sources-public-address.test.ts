import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../lib/sources/public-address';

describe('isPublicAddress', () => {
  it('refuses loopback, private, link-local, shared, reserved and mapped private addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.9',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      'not an address',
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });

  it('accepts public IPv4 and IPv6 addresses', () => {
    for (const address of ['8.8.8.8', '52.94.236.248', '2606:4700:4700::1111', '::ffff:8.8.4.4'])
      expect(isPublicAddress(address), address).toBe(true);
  });
});
