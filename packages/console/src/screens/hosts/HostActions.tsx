import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, call } from '../../api/client';
import { Can, useCan } from '../../auth';
import { ErrorBox } from '../../ui/ErrorBox';
import { FormProblems } from '../../ui/parts';
import { SafeText } from '../../ui/SafeText';
import styles from './Host.module.css';
import type { HostDetail, Quarantine } from './HostPage';
import { isIsolated, parseGroups, parseReason, type RiskBody, riskBody } from './host-logic';

/** After any change to a host: its page, the hosts list and the dashboard show the new state. */
function useHostInvalidation(id: string) {
  const client = useQueryClient();
  return async () => {
    await Promise.all([
      client.invalidateQueries({ queryKey: ['host', id] }),
      client.invalidateQueries({ queryKey: ['hosts'] }),
      client.invalidateQueries({ queryKey: ['dashboard'] }),
    ]);
  };
}

type Panel = 'revoke' | 'quarantine' | null;

/**
 * The header actions, by role: Approve / Revoke (hosts:manage; revoking asks first), Quarantine /
 * Release (quarantine:manage; isolating asks for a reason).
 */
export function HostActions({ host, quarantine }: { host: HostDetail; quarantine: Quarantine | undefined }) {
  const can = useCan();
  const invalidate = useHostInvalidation(host.id);
  const [panel, setPanel] = useState<Panel>(null);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const path = { params: { path: { id: host.id } } };

  const approve = useMutation({ mutationFn: () => call(api.POST('/api/v1/hosts/{id}/approve', path)), onSuccess: invalidate });
  const revoke = useMutation({
    mutationFn: () => call(api.POST('/api/v1/hosts/{id}/revoke', path)),
    onSuccess: async () => {
      setPanel(null);
      await invalidate();
    },
  });
  const isolate = useMutation({
    mutationFn: (text: string) => call(api.POST('/api/v1/hosts/{id}/quarantine', { ...path, body: { reason: text } })),
    onSuccess: async () => {
      setPanel(null);
      setReason('');
      await invalidate();
    },
  });
  const release = useMutation({
    mutationFn: () => call(api.POST('/api/v1/hosts/{id}/release', { ...path, body: {} })),
    onSuccess: invalidate,
  });

  const manage = can('hosts:manage');
  const quarantineAllowed = can('quarantine:manage') && host.status !== 'revoked' && quarantine !== undefined;
  const isolated = isIsolated(quarantine);
  const busy = approve.isPending || revoke.isPending || isolate.isPending || release.isPending;
  const error = approve.error ?? revoke.error ?? isolate.error ?? release.error;

  const submitIsolate = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseReason(reason);
    if (!parsed.ok) {
      setReasonError(parsed.error);
      return;
    }
    setReasonError(null);
    isolate.mutate(parsed.value);
  };

  if (!manage && !quarantineAllowed) return null;
  return (
    <>
      <div className="actions">
        {manage && host.status === 'pending' ? (
          <button type="button" className="primary" disabled={busy} onClick={() => approve.mutate()}>
            Approve
          </button>
        ) : null}
        {manage && host.status !== 'revoked' && panel !== 'revoke' ? (
          <button type="button" className="danger" disabled={busy} onClick={() => setPanel('revoke')}>
            Revoke
          </button>
        ) : null}
        {quarantineAllowed && !isolated && panel !== 'quarantine' ? (
          <button type="button" disabled={busy} onClick={() => setPanel('quarantine')}>
            Quarantine
          </button>
        ) : null}
        {quarantineAllowed && isolated ? (
          <button type="button" disabled={busy} onClick={() => release.mutate()}>
            Release
          </button>
        ) : null}
      </div>
      {panel === 'revoke' ? (
        <fieldset className={`notice ${styles.panel}`}>
          <legend>Confirm revoke</legend>
          <p>
            Revoke{' '}
            <strong>
              <SafeText text={host.hostname} max={80} />
            </strong>
            ? Its key is refused from now on and it is disconnected; only a new enrolment brings it back.
          </p>
          <div className="actions">
            <button type="button" className="danger" disabled={busy} onClick={() => revoke.mutate()}>
              Confirm revoke
            </button>
            <button type="button" onClick={() => setPanel(null)}>
              Cancel
            </button>
          </div>
        </fieldset>
      ) : null}
      {panel === 'quarantine' ? (
        <form className={`notice ${styles.panel} ${styles.panelForm}`} aria-label="Quarantine host" onSubmit={submitIsolate}>
          <p>Isolating cuts the host&apos;s network to all but the Brier server, by a signed order its agent applies.</p>
          <label>
            Reason
            <input value={reason} maxLength={500} required onChange={(e) => setReason(e.target.value)} />
          </label>
          {reasonError ? (
            <p className="error-box" role="alert">
              {reasonError}
            </p>
          ) : null}
          <div className="actions">
            <button type="submit" className="danger" disabled={busy}>
              Isolate host
            </button>
            <button type="button" onClick={() => setPanel(null)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {error ? (
        <div className={styles.panel}>
          <ErrorBox error={error} />
        </div>
      ) : null}
    </>
  );
}

/** Risk tier and site (vulns:manage) and groups (groups:manage), for roles that may change them. */
export function HostSettings({ host }: { host: HostDetail }) {
  const can = useCan();
  if (!can('vulns:manage') && !can('groups:manage')) return null;
  return (
    <section className="card" aria-label="Placement">
      <h2>Placement</h2>
      <Can permission="vulns:manage">
        <RiskForm host={host} />
      </Can>
      <Can permission="groups:manage">
        <GroupsForm host={host} />
      </Can>
    </section>
  );
}

/** The select's value for the host's own tier: 'inherit' when it has none (it takes its groups' highest). */
const ownTier = (host: HostDetail) => (host.riskTier === null ? 'inherit' : String(host.riskTier));

function RiskForm({ host }: { host: HostDetail }) {
  const invalidate = useHostInvalidation(host.id);
  const [tier, setTier] = useState(ownTier(host));
  const [site, setSite] = useState(host.site ?? '');
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: RiskBody) => call(api.PUT('/api/v1/hosts/{id}/risk', { params: { path: { id: host.id } }, body })),
    onSuccess: async (result) => {
      setTier(result.riskTier === null ? 'inherit' : String(result.riskTier));
      setSite(result.site ?? '');
      await invalidate();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = riskBody(tier, site);
    if (!parsed.ok) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    save.mutate(parsed.value);
  };
  return (
    <form className={styles.inlineForm} onSubmit={submit}>
      <label>
        Risk tier
        <select value={tier} onChange={(e) => setTier(e.target.value)}>
          <option value="inherit">Inherit from groups{host.riskTier === null ? ` (now ${host.tier})` : ''}</option>
          {[5, 4, 3, 2, 1].map((t) => (
            <option key={t} value={String(t)}>
              {t}
              {t === 5 ? ' (most important)' : t === 1 ? ' (least important)' : ''}
            </option>
          ))}
        </select>
      </label>
      <label>
        Site
        <input value={site} maxLength={100} onChange={(e) => setSite(e.target.value)} placeholder="none" />
      </label>
      <button type="submit" disabled={save.isPending}>
        Save risk
      </button>
      {save.isSuccess && !save.isPending ? <span className="muted">Saved.</span> : null}
      <FormProblems problems={invalid ? [invalid] : []} />
      {save.error ? <ErrorBox error={save.error} /> : null}
    </form>
  );
}

function GroupsForm({ host }: { host: HostDetail }) {
  const invalidate = useHostInvalidation(host.id);
  const [text, setText] = useState(host.groups.join(', '));
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (groups: string[]) => call(api.PUT('/api/v1/hosts/{id}/groups', { params: { path: { id: host.id } }, body: { groups } })),
    onSuccess: async (result) => {
      setText(result.groups.join(', '));
      await invalidate();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseGroups(text);
    if (!parsed.ok) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    save.mutate(parsed.value);
  };
  return (
    <form className={styles.inlineForm} onSubmit={submit}>
      <label className={styles.grow}>
        Groups
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="comma separated, e.g. web, canary" />
      </label>
      <button type="submit" disabled={save.isPending}>
        Save groups
      </button>
      {save.isSuccess && !save.isPending ? <span className="muted">Saved.</span> : null}
      <FormProblems problems={invalid ? [invalid] : []} />
      {save.error ? <ErrorBox error={save.error} /> : null}
    </form>
  );
}
