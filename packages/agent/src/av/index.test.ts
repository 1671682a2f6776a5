import { describe, expect, it } from 'vitest';
import type { PackageControl, ServiceManager } from '../policy/ports.js';
import type { CommandRunner } from '../run-command.js';
import { type AntivirusName, antivirusProvider, defaultProviderFor, UnknownAntivirusError } from './index.js';

const run: CommandRunner = async () => {
  throw new Error('nothing runs while providers are built');
};
const services: ServiceManager = {
  kind: 'fake',
  status: async () => ({ exists: false, running: false, enabled: null, detail: '' }),
  start: async () => ({ ok: false, detail: '' }),
  enable: async () => ({ ok: false, detail: '' }),
};
const packages: PackageControl = {
  installedVersion: async () => null,
  install: async () => ({ ok: false, detail: '' }),
  remove: async () => ({ ok: false, detail: '' }),
  atLeast: () => false,
};

describe('antivirusProvider', () => {
  it('builds each provider by name without running anything', () => {
    for (const name of ['clamav', 'defender', 'xprotect'] as const)
      expect(antivirusProvider(name, { run, services, packages }).name).toBe(name);
  });

  it('throws invalid-request for an unknown provider name', () => {
    expect(() => antivirusProvider('norton' as AntivirusName, { run, services, packages })).toThrow(UnknownAntivirusError);
    try {
      antivirusProvider('auto' as AntivirusName, { run, services, packages });
    } catch (err) {
      expect((err as UnknownAntivirusError).code).toBe('invalid-request');
    }
  });
});

describe('defaultProviderFor', () => {
  it('maps linux to clamav, win32 to defender, darwin to xprotect, anything else to null', () => {
    expect(defaultProviderFor('linux')).toBe('clamav');
    expect(defaultProviderFor('win32')).toBe('defender');
    expect(defaultProviderFor('darwin')).toBe('xprotect');
    expect(defaultProviderFor('freebsd')).toBeNull();
  });
});
