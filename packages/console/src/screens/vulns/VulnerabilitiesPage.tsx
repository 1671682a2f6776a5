import { Can } from '../../auth';
import { useUrlState } from '../../ui/url-state';
import { FeedsTab } from './FeedsTab';
import { FindingsTab } from './FindingsTab';
import { ImportTab } from './ImportTab';
import { OverdueTab } from './OverdueTab';
import { Tabs } from './Tabs';

type TabId = 'findings' | 'overdue' | 'feeds' | 'import';

const TABS: ReadonlyArray<{ id: TabId; label: string }> = [
  { id: 'findings', label: 'Findings' },
  { id: 'overdue', label: 'Overdue' },
  { id: 'feeds', label: 'Feeds' },
  { id: 'import', label: 'Import' },
];

const isTab = (s: string): s is TabId => TABS.some((t) => t.id === s);

/** /vulnerabilities: findings with their metrics, what is overdue, and the feeds that define them. */
export function VulnerabilitiesPage() {
  const [state, update] = useUrlState({ tab: 'findings', severity: '', overdue: '', id: '', tier: '', q: '', offset: '0', by: 'severity' });
  const tab: TabId = isTab(state.tab) ? state.tab : 'findings';
  const offset = Math.max(0, Number.parseInt(state.offset, 10) || 0);
  return (
    <>
      <div className="page-header">
        <h1>Vulnerabilities</h1>
        <Can permission="vulns:manage">
          <span className="actions">
            <button type="button" onClick={() => update({ tab: 'import' })}>
              Import a feed
            </button>
          </span>
        </Can>
      </div>
      <Tabs label="Vulnerability views" tabs={TABS} current={tab} onChange={(id) => update({ tab: id })} />
      <div role="tabpanel" aria-label={TABS.find((t) => t.id === tab)?.label}>
        {tab === 'findings' ? <FindingsTab filters={state} update={update} /> : null}
        {tab === 'overdue' ? <OverdueTab offset={offset} onOffsetChange={(o) => update({ offset: String(o) })} /> : null}
        {tab === 'feeds' ? <FeedsTab /> : null}
        {tab === 'import' ? <ImportTab /> : null}
      </div>
    </>
  );
}
