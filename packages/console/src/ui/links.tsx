import { Link } from 'react-router';
import { SafeText } from './SafeText';

/** A link to a host's page, its reported name shown as untrusted text. */
export function HostLink({ id, hostname, max = 60 }: { id: string; hostname: string | null | undefined; max?: number }) {
  return (
    <Link className="nowrap" to={`/hosts/${encodeURIComponent(id)}`}>
      <SafeText text={hostname ?? id} max={max} />
    </Link>
  );
}

/** A link to a vulnerability record's page (CVE, DSA, GHSA… ids come from feeds: untrusted). */
export function RecordLink({ id }: { id: string }) {
  return (
    <Link to={`/vulnerabilities/${encodeURIComponent(id)}`}>
      <SafeText text={id} />
    </Link>
  );
}
