import type { Json } from '../../api/client';
import { newDeploymentQuery } from '../deployments/form';
import { formatPackageSpec, type PackageSpec, parsePackageSpec } from '../deployments/model';

export type CatalogueEntry = Json<'/api/v1/patches', 'get'>['items'][number];

/** One catalogue row: a package at one candidate version in one ecosystem. */
export function entryKey(e: Pick<CatalogueEntry, 'ecosystem' | 'name' | 'candidateVersion'>): string {
  return `${e.ecosystem}\n${e.name}\n${e.candidateVersion}`;
}

/**
 * Where "Deploy selected" goes: /deployments/new with the selected packages. A package picked at one
 * candidate version may ask for at least that version (`name>=version`); picked at several it
 * installs the latest each host is offered. A deployment has one ecosystem, so a mix is refused.
 */
export function deployTarget(
  selected: readonly Pick<CatalogueEntry, 'ecosystem' | 'name' | 'candidateVersion'>[],
  options: { atLeast: boolean },
): { ok: true; href: string } | { ok: false; reason: string } {
  if (selected.length === 0) return { ok: false, reason: 'Select at least one package.' };
  const ecosystems = [...new Set(selected.map((e) => e.ecosystem))];
  if (ecosystems.length > 1)
    return { ok: false, reason: `A deployment covers one package ecosystem; the selection mixes ${ecosystems.join(', ')}.` };
  const versions = new Map<string, Set<string>>();
  for (const e of selected) {
    const v = versions.get(e.name) ?? new Set<string>();
    v.add(e.candidateVersion);
    versions.set(e.name, v);
  }
  const packages: PackageSpec[] = [...versions].map(([name, v]) => {
    const only = v.size === 1 ? [...v][0] : undefined;
    return options.atLeast && only !== undefined ? { name, minVersion: only } : { name };
  });
  // An agent reports names and versions: one that would not read back as itself (a comma, '=',
  // spaces) must not turn into other packages in the link.
  const bad = packages.filter((p) => {
    const spec = formatPackageSpec(p);
    const back = parsePackageSpec(spec);
    return spec.includes(',') || !back.ok || formatPackageSpec(back.value) !== spec || back.value.name !== p.name;
  });
  if (bad.length > 0)
    return { ok: false, reason: `Not a package the form can take: ${bad.map((p) => JSON.stringify(formatPackageSpec(p))).join(', ')}.` };
  return { ok: true, href: `/deployments/new?${newDeploymentQuery({ packages, ecosystem: ecosystems[0] })}` };
}
