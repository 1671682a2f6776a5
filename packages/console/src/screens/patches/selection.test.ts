import { describe, expect, it } from 'vitest';
import { formFromQuery } from '../deployments/form';
import { deployTarget, entryKey } from './selection';

const row = (name: string, candidateVersion: string, ecosystem = 'dpkg') => ({ name, candidateVersion, ecosystem });

function query(href: string) {
  return formFromQuery(new URLSearchParams(href.split('?')[1]));
}

describe('Deploy selected', () => {
  it('links to the new-deployment form with the packages', () => {
    const r = deployTarget([row('openssl', '3.0.13-1'), row('curl', '7.88.1-10')], { atLeast: false });
    expect(r).toEqual({ ok: true, href: '/deployments/new?packages=openssl%2Ccurl' });
    if (r.ok) expect(query(r.href).form.packages).toBe('openssl, curl');
  });

  it('asks for at least the picked version when told, unless several versions of a package were picked', () => {
    const r = deployTarget([row('openssl', '3.0.13-1'), row('curl', '7.88.1-10'), row('curl', '7.74.0-1.3')], { atLeast: true });
    expect(r.ok).toBe(true);
    if (r.ok) expect(query(r.href).form.packages).toBe('openssl>=3.0.13-1, curl');
  });

  it('carries a non-default ecosystem and refuses a mix', () => {
    const rpm = deployTarget([row('kernel', '5.14.0-427', 'rpm')], { atLeast: false });
    expect(rpm.ok && query(rpm.href).form.ecosystem).toBe('rpm');
    expect(deployTarget([row('a', '1', 'rpm'), row('b', '1', 'dpkg')], { atLeast: false }).ok).toBe(false);
    expect(deployTarget([], { atLeast: false }).ok).toBe(false);
  });

  it('refuses a reported name or version that would read back as other packages', () => {
    for (const hostile of [row('a,b', '1'), row('a=b', '1'), row('a b', '1'), row('a\u202Eb', '1'), row('', '1')]) {
      const r = deployTarget([hostile], { atLeast: false });
      expect(r.ok, JSON.stringify(hostile)).toBe(false);
    }
    expect(deployTarget([row('ok', '1,evil')], { atLeast: true }).ok).toBe(false);
    expect(deployTarget([row('ok', '1 2')], { atLeast: true }).ok).toBe(false);
    const amp = deployTarget([row('g++', '4:12.2.0-3')], { atLeast: true });
    expect(amp.ok && query(amp.href).form.packages).toBe('g++>=4:12.2.0-3');
  });

  it('keys rows by ecosystem, name and version', () => {
    expect(entryKey(row('a', '1'))).not.toBe(entryKey(row('a', '2')));
    expect(entryKey(row('a', '1', 'rpm'))).not.toBe(entryKey(row('a', '1')));
  });
});
