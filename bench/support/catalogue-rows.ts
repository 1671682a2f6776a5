import type { PackageEntry } from '@brier/protocol';
import { copyField } from '../inventory-ingest.js';
import { catalogueKey } from './synthetic-fleet.js';

/**
 * The software catalogue of a synthetic fleet as COPY lines (`id, ecosystem, name, version, arch,
 * source, source_version`), built while the hosts stream by: each distinct package gets the next id.
 */
export class CatalogueRows {
  private readonly ids = new Map<string, number>();
  readonly lines: string[] = [];

  /** The catalogue ids of a host's packages, adding a line for each package not seen before. */
  idsOf(packages: readonly PackageEntry[]): Uint32Array {
    const out = new Uint32Array(packages.length);
    for (const [k, p] of packages.entries()) {
      const key = catalogueKey(p);
      let id = this.ids.get(key);
      if (id === undefined) {
        id = this.ids.size + 1;
        this.ids.set(key, id);
        this.lines.push(
          `${[id, p.ecosystem, p.name, p.version, p.arch, p.source ?? '', p.sourceVersion ?? ''].map((v) => copyField(String(v))).join('\t')}\n`,
        );
      }
      out[k] = id;
    }
    return out;
  }
}
