import { SafeText } from '../../ui/SafeText';
import { referenceLinks } from './safe-url';
import styles from './Vulns.module.css';

/** A record's references: only http(s) links (safeHttpUrl), opened without opener or referrer. */
export function References({ id, aliases, feedReferences }: { id: string; aliases: readonly string[]; feedReferences?: unknown }) {
  const links = referenceLinks(id, aliases, feedReferences);
  if (links.length === 0) return <span className="muted">—</span>;
  return (
    <ul className={styles.references}>
      {links.map((l) => (
        <li key={l.href}>
          <a href={l.href} target="_blank" rel="noopener noreferrer">
            <SafeText text={l.label} max={120} />
          </a>
        </li>
      ))}
    </ul>
  );
}
