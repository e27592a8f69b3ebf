import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey } from './address.js';

describe('addressKey', () => {
  it('keeps an IPv4 address as it is', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address, however it is written', () => {
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::FFFF:cb00:7107'), '203.0.113.7');
    assert.equal(addressKey('0:0:0:0:0:ffff:203.0.113.7'), '203.0.113.7');
  });

  it('groups IPv6 addresses by their /64, in one canonical spelling', () => {
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0DB8:0001:0002::ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('2001:db8:0:0:1::'), '2001:db8:0:0::/64');
    assert.notEqual(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
  });

  it('expands :: wherever it stands', () => {
    assert.equal(addressKey('::'), '0:0:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('1::'), '1:0:0:0::/64');
    assert.equal(addressKey('1:2:3::8'), '1:2:3:0::/64');
    assert.equal(addressKey('1:2:3:4:5::8'), '1:2:3:4::/64');
  });

  it('ignores brackets and zone ids', () => {
    assert.equal(addressKey('[2001:db8::1]'), '2001:db8:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });

  it('does not mistake other IPv4-embedding prefixes for mapped addresses', () => {
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(addressKey('::192.0.2.1'), '0:0:0:0::/64');
  });

  it('returns anything that is not an IP address unchanged, and is idempotent', () => {
    assert.equal(addressKey('unknown'), 'unknown');
    for (const ip of ['203.0.113.7', '::ffff:203.0.113.7', '2001:db8::1', 'unknown']) {
      assert.equal(addressKey(addressKey(ip)), addressKey(ip));
    }
  });
});
