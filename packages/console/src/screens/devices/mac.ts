/**
 * What a MAC address itself says. There is no vendor database in Brier; the address's own bits
 * tell a randomised (locally administered) address, as phones and laptops use on Wi-Fi, from one a
 * manufacturer assigned (whose first three octets, the OUI, name the vendor).
 */
export interface MacInfo {
  /** Lower case, colon-separated; null when the text is no MAC address. */
  mac: string | null;
  kind: 'universal' | 'local' | 'multicast' | 'invalid';
  /** The manufacturer prefix of a universal address. */
  oui: string | null;
}

const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

export function macInfo(text: string): MacInfo {
  if (!MAC.test(text)) return { mac: null, kind: 'invalid', oui: null };
  const mac = text.toLowerCase().replaceAll('-', ':');
  const first = Number.parseInt(mac.slice(0, 2), 16);
  if (first & 1) return { mac, kind: 'multicast', oui: null };
  if (first & 2) return { mac, kind: 'local', oui: null };
  return { mac, kind: 'universal', oui: mac.slice(0, 8) };
}

export function macKindLabel(info: MacInfo): string {
  switch (info.kind) {
    case 'universal':
      return `Vendor-assigned (OUI ${info.oui})`;
    case 'local':
      return 'Locally administered (often randomised)';
    case 'multicast':
      return 'Multicast';
    case 'invalid':
      return 'Not a MAC address';
  }
}
