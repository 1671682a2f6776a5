import { describe, expect, it } from 'vitest';
import { MAX_LINK_HOSTS, planDeploymentHref } from './plan-link';

describe('planDeploymentHref', () => {
  it('prefills the packages at their fixed versions and the affected hosts', () => {
    const { href, truncated } = planDeploymentHref([
      { hostId: 'h1', package: 'openssl', fixedVersion: '3.0.11-1~deb12u2' },
      { hostId: 'h2', package: 'openssl', fixedVersion: '3.0.11-1~deb12u2' },
      { hostId: 'h2', package: 'libssl3', fixedVersion: '3.0.11-1~deb12u2' },
      { hostId: 'h3', package: 'zlib1g' },
    ]);
    expect(truncated).toBe(false);
    const url = new URL(href, 'https://console.example');
    expect(url.pathname).toBe('/deployments/new');
    expect(url.searchParams.get('packages')).toBe('libssl3>=3.0.11-1~deb12u2,openssl>=3.0.11-1~deb12u2,zlib1g');
    expect(url.searchParams.get('hosts')).toBe('h1,h2,h3');
  });

  it('takes a fixed version that a later finding names when the first had none', () => {
    const { href } = planDeploymentHref([
      { hostId: 'h1', package: 'p' },
      { hostId: 'h2', package: 'p', fixedVersion: '2' },
    ]);
    expect(new URL(href, 'https://x').searchParams.get('packages')).toBe('p>=2');
  });

  it('leaves the hosts out past the limit and says so', () => {
    const many = Array.from({ length: MAX_LINK_HOSTS + 1 }, (_, i) => ({ hostId: `h${i}`, package: 'p', fixedVersion: '1' }));
    const { href, truncated } = planDeploymentHref(many);
    expect(truncated).toBe(true);
    expect(new URL(href, 'https://x').searchParams.has('hosts')).toBe(false);
    expect(planDeploymentHref([]).href).toBe('/deployments/new');
    const partial = planDeploymentHref([{ hostId: 'h1', package: 'p', fixedVersion: '1' }], false);
    expect(partial).toEqual({ href: '/deployments/new?packages=p%3E%3D1', truncated: true });
  });
});
