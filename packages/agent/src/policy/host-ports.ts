import { type AntivirusDeps, type AntivirusName, antivirusProvider } from '../av/index.js';
import type { PolicyPorts } from './engine.js';
import type { AntivirusProvider, PackageControl, ServiceManager } from './ports.js';

/** A PackageControl for hosts without one (no apt): reads nothing, changes nothing, says why. */
export function unavailablePackageControl(why: string): PackageControl {
  return {
    installedVersion: async () => {
      throw Object.assign(new Error(why), { code: 'tool-missing' });
    },
    install: async () => ({ ok: false, code: 'tool-missing', detail: why }),
    remove: async () => ({ ok: false, code: 'tool-missing', detail: why }),
    atLeast: () => {
      throw Object.assign(new Error(why), { code: 'tool-missing' });
    },
  };
}

export interface HostPortsDeps extends Omit<AntivirusDeps, 'packages' | 'services'> {
  platform: NodeJS.Platform;
  /** Package install/remove for policies; absent: package rules report 'error'. */
  packages?: PackageControl;
  services: ServiceManager;
}

/**
 * The policy ports of a real host: the given package control and service manager, and antivirus
 * providers made on first use (one per product, so their state — a start in progress — is shared).
 * ClamAV needs a package control to install itself; without one it is reported unavailable.
 */
export function hostPolicyPorts(deps: HostPortsDeps): PolicyPorts {
  const { platform, packages, services, ...avDeps } = deps;
  const providers = new Map<AntivirusName, AntivirusProvider>();
  const noPackages = unavailablePackageControl(`no package manager for policies on ${platform}`);
  return {
    ...(packages ? { packages } : {}),
    services,
    antivirus: (name) => {
      if (name === 'clamav' && !packages) return undefined;
      let provider = providers.get(name);
      if (!provider) {
        provider = antivirusProvider(name, { ...avDeps, services, packages: packages ?? noPackages });
        providers.set(name, provider);
      }
      return provider;
    },
  };
}
