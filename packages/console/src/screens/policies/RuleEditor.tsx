import styles from './Policies.module.css';
import { AV_PROVIDERS, type AvProvider, emptyRule, RULE_KINDS, type RuleForm, type RuleKind } from './rule-form';

/** One rule of the policy editor: its kind, then the fields that kind has. */
export function RuleEditor({
  index,
  count,
  rule,
  onChange,
  onRemove,
  onMove,
  readOnly,
}: {
  index: number;
  count: number;
  rule: RuleForm;
  onChange: (rule: RuleForm) => void;
  onRemove: () => void;
  onMove: (delta: -1 | 1) => void;
  readOnly: boolean;
}) {
  const n = index + 1;
  const set = (patch: Partial<RuleForm>) => onChange({ ...rule, ...patch });
  return (
    <fieldset className={styles.rule} disabled={readOnly}>
      <legend>Rule {n}</legend>
      <div className={styles.ruleFields}>
        <label>
          Rule {n} kind
          <select
            value={rule.kind}
            onChange={(e) => {
              const kind = e.target.value as RuleKind;
              // Keep what carries over (a name between package and service rules); reset the rest.
              onChange({ ...emptyRule(kind), name: rule.name });
            }}
          >
            {RULE_KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        {rule.kind === 'package-installed' || rule.kind === 'package-absent' ? (
          <label>
            Rule {n} package name
            <input value={rule.name} onChange={(e) => set({ name: e.target.value })} maxLength={256} className="mono" required />
          </label>
        ) : null}
        {rule.kind === 'package-installed' ? (
          <label>
            Rule {n} minimum version
            <input
              value={rule.minVersion}
              onChange={(e) => set({ minVersion: e.target.value })}
              maxLength={256}
              className="mono"
              placeholder="any version"
            />
          </label>
        ) : null}
        {rule.kind === 'service-running' ? (
          <>
            <label>
              Rule {n} service name
              <input value={rule.name} onChange={(e) => set({ name: e.target.value })} maxLength={256} className="mono" required />
            </label>
            <label>
              <span>
                <input type="checkbox" checked={rule.enable} onChange={(e) => set({ enable: e.target.checked })} /> Rule {n}: also start at
                boot
              </span>
            </label>
          </>
        ) : null}
        {rule.kind === 'antivirus' ? (
          <>
            <label>
              Rule {n} provider
              <select value={rule.provider} onChange={(e) => set({ provider: e.target.value as AvProvider })}>
                {AV_PROVIDERS.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Rule {n} maximum signature age (hours)
              <input
                type="number"
                min={1}
                max={8760}
                step={1}
                value={rule.maxSignatureAgeHours}
                onChange={(e) => set({ maxSignatureAgeHours: e.target.value })}
                placeholder="48"
              />
            </label>
          </>
        ) : null}
        {rule.kind === 'file-present' ? (
          <>
            <label className={styles.wide}>
              Rule {n} path
              <input
                value={rule.path}
                onChange={(e) => set({ path: e.target.value })}
                maxLength={1024}
                className="mono"
                placeholder="/etc/ssh/sshd_config"
                required
              />
            </label>
            <label className={styles.wide}>
              Rule {n} SHA-256
              <input
                value={rule.sha256}
                onChange={(e) => set({ sha256: e.target.value })}
                maxLength={64}
                minLength={64}
                className="mono"
                spellCheck={false}
                required
              />
            </label>
          </>
        ) : null}
        {rule.kind === 'firewall-enabled' ? <span className="muted">The host's firewall must be on (nothing to fill in).</span> : null}
      </div>
      {readOnly ? null : (
        <div className="actions">
          <button type="button" onClick={() => onMove(-1)} disabled={index === 0} aria-label={`Move rule ${n} up`}>
            ↑
          </button>
          <button type="button" onClick={() => onMove(1)} disabled={index === count - 1} aria-label={`Move rule ${n} down`}>
            ↓
          </button>
          <button type="button" onClick={onRemove} disabled={count <= 1}>
            Remove rule {n}
          </button>
        </div>
      )}
    </fieldset>
  );
}
