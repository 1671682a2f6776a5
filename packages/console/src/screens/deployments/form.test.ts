import { describe, expect, it } from 'vitest';
import {
  appendPackage,
  buildCreateBody,
  type DeploymentForm,
  emptyForm,
  formFromQuery,
  moveWave,
  newDeploymentQuery,
  newWave,
} from './form';

const HOST_A = '0b7c6a52-5d1b-4f7e-9a51-1f3c2e4d5a6b';
const HOST_B = '1c8d7b63-6e2c-4a8f-8b62-2a4d3f5e6b7c';

function form(patch: Partial<DeploymentForm> = {}): DeploymentForm {
  return { ...emptyForm(), name: 'Update openssl', packages: 'openssl', groups: ['web'], ...patch };
}

describe('prefill from the query string', () => {
  it('reads packages, hosts, groups, name and flags', () => {
    const { form: f, problems } = formFromQuery(
      new URLSearchParams({
        packages: 'openssl,curl>=7.88.1-10+deb12u5,tzdata=2024a-0+deb12u1,openssl',
        hosts: `${HOST_A},${HOST_B.toUpperCase()}`,
        groups: 'web, db',
        name: 'Fix CVE-2024-0001',
        ecosystem: 'rpm',
        critical: '1',
        reboot: 'if-required',
      }),
    );
    expect(problems).toEqual([]);
    expect(f.packages).toBe('openssl, curl>=7.88.1-10+deb12u5, tzdata=2024a-0+deb12u1');
    expect(f.hostIds).toEqual([HOST_A, HOST_B]);
    expect(f.groups).toEqual(['web', 'db']);
    expect(f.name).toBe('Fix CVE-2024-0001');
    expect(f.ecosystem).toBe('rpm');
    expect(f.critical).toBe(true);
    expect(f.emergency).toBe(false);
    expect(f.rebootPolicy).toBe('if-required');
  });

  it('names the deployment after its packages when the link gives no name', () => {
    expect(formFromQuery(new URLSearchParams('packages=a,b')).form.name).toBe('Update a, b');
    expect(formFromQuery(new URLSearchParams('packages=a,b,c,d,e')).form.name).toBe('Update a, b, c and 2 more');
    expect(formFromQuery(new URLSearchParams('')).form).toEqual(emptyForm());
  });

  it('reports what it cannot use instead of dropping it silently', () => {
    const { form: f, problems } = formFromQuery(
      new URLSearchParams({
        packages: 'ok,bad name,=x',
        hosts: `${HOST_A},../../etc,1 OR 1=1`,
        groups: `g\u0000x,${'g'.repeat(101)},fine`,
        ecosystem: 'npm',
        reboot: 'sometimes',
        name: 'a\u0000b\nc',
      }),
    );
    expect(f.packages).toBe('ok');
    expect(f.hostIds).toEqual([HOST_A]);
    expect(f.groups).toEqual(['fine']);
    expect(f.ecosystem).toBe('dpkg');
    expect(f.rebootPolicy).toBe('never');
    expect(f.name).toBe('a b c');
    expect(problems).toHaveLength(8);
  });

  it('is the inverse of the link other screens build', () => {
    const q = newDeploymentQuery({
      packages: [{ name: 'a' }, { name: 'b', minVersion: '2' }],
      hostIds: [HOST_A],
      groups: ['web'],
      name: 'Patch & reboot',
      ecosystem: 'apk',
    });
    const { form: f, problems } = formFromQuery(new URLSearchParams(q));
    expect(problems).toEqual([]);
    expect(f).toMatchObject({
      packages: 'a, b>=2',
      hostIds: [HOST_A],
      groups: ['web'],
      name: 'Patch & reboot',
      ecosystem: 'apk',
    });
    expect(newDeploymentQuery({ packages: [{ name: 'a' }], ecosystem: 'dpkg' })).toBe('packages=a');
  });
});

describe('the create body', () => {
  it('says only what the operator chose', () => {
    expect(buildCreateBody(form())).toEqual({
      ok: true,
      body: { name: 'Update openssl', packages: [{ name: 'openssl' }], targets: { groups: ['web'] } },
    });
  });

  it('carries every field the API takes', () => {
    const startAt = '2030-05-01T22:30';
    const r = buildCreateBody(
      form({
        name: '  Kernel  ',
        packages: 'linux-image-amd64=6.1.90-1\n libc6>=2.36-9+deb12u7,',
        hostIds: [HOST_A],
        groups: ['web'],
        waves: [
          newWave({ name: 'pilot', mode: 'group', group: 'pilot', percent: 'ignored', bakeMinutes: '30', successThreshold: '100' }),
          newWave({ name: '', percent: '10', bakeMinutes: '0', successThreshold: '99.5' }),
          newWave({ name: 'rest', percent: '100' }),
        ],
        critical: true,
        emergency: true,
        ecosystem: 'rpm',
        rebootPolicy: 'if-required',
        startAt,
        deadlineHours: '48',
      }),
    );
    expect(r).toEqual({
      ok: true,
      body: {
        name: 'Kernel',
        packages: [
          { name: 'linux-image-amd64', version: '6.1.90-1' },
          { name: 'libc6', minVersion: '2.36-9+deb12u7' },
        ],
        targets: { hostIds: [HOST_A], groups: ['web'] },
        waves: [
          { name: 'pilot', group: 'pilot', bakeMinutes: 30, successThreshold: 1 },
          { percent: 10, bakeMinutes: 0, successThreshold: 0.995 },
          { name: 'rest', percent: 100, bakeMinutes: 60, successThreshold: 0.95 },
        ],
        critical: true,
        emergency: true,
        ecosystem: 'rpm',
        rebootPolicy: 'if-required',
        deadlineHours: 48,
        startAt: new Date(startAt).toISOString(),
      },
    });
  });

  it('lists every problem at once and builds nothing', () => {
    const r = buildCreateBody({
      ...emptyForm(),
      name: ' ',
      waves: [
        newWave({ mode: 'group', group: ' ' }),
        newWave({ percent: '0', bakeMinutes: '1.5', successThreshold: '101' }),
        newWave({ percent: 'abc', bakeMinutes: '-1', successThreshold: '' }),
        newWave({ percent: '1e3', bakeMinutes: '99999' }),
      ],
      startAt: 'not a date',
      deadlineHours: '0',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toEqual([
        'Name is required',
        'Add at least one package',
        'Choose at least one host or group as the target',
        'Wave 1: choose its group',
        'Wave 2: the share must be a number above 0 and at most 100',
        'Wave 2: the bake time must be a whole number of minutes from 0 to 43200',
        'Wave 2: the success threshold must be a percentage from 0 to 100',
        'Wave 3: the share must be a number above 0 and at most 100',
        'Wave 3: the bake time must be a whole number of minutes from 0 to 43200',
        'Wave 3: the success threshold must be a percentage from 0 to 100',
        'Wave 4: the share must be a number above 0 and at most 100',
        'Wave 4: the bake time must be a whole number of minutes from 0 to 43200',
        'Start at is not a valid date and time',
        'Deadline must be a number of hours above 0 and at most 2160',
      ]);
    }
  });

  it('reads the packages text and refuses bad or repeated specs', () => {
    const r = buildCreateBody(form({ packages: 'a, a=2, =x, b c' }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toHaveLength(2);
      expect(r.problems[0]).toMatch(/^Packages: "=x" has no package name/);
      expect(r.problems[1]).toBe('Packages: a is listed twice');
    }
    const ok = buildCreateBody(form({ packages: 'a\nb c' }));
    expect(ok.ok && ok.body.packages).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
  });

  it('adds a package picked from the catalogue to the text once', () => {
    expect(appendPackage('', 'curl')).toBe('curl');
    expect(appendPackage('openssl>=3,', 'curl')).toBe('openssl>=3, curl');
    expect(appendPackage('curl=7.88', 'curl')).toBe('curl=7.88');
  });

  it('refuses control characters and oversized names', () => {
    expect(buildCreateBody(form({ name: 'a\u0000b' })).ok).toBe(false);
    expect(buildCreateBody(form({ name: 'x'.repeat(201) })).ok).toBe(false);
    expect(buildCreateBody(form({ waves: Array.from({ length: 21 }, () => newWave()) })).ok).toBe(false);
  });

  it('is the same text for the same form, so a preview can be matched to it', () => {
    const a = buildCreateBody(form({ waves: [newWave({ percent: '100' })] }));
    const b = buildCreateBody(form({ waves: [newWave({ percent: '100' })] }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const c = buildCreateBody(form({ waves: [newWave({ percent: '100' })], critical: true }));
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });
});

describe('wave order', () => {
  it('moves a wave up or down and ignores moves past the ends', () => {
    const [a, b, c] = [newWave({ name: 'a' }), newWave({ name: 'b' }), newWave({ name: 'c' })];
    const names = (ws: { name: string }[]) => ws.map((w) => w.name).join('');
    expect(names(moveWave([a, b, c], 2, -1))).toBe('acb');
    expect(names(moveWave([a, b, c], 0, 1))).toBe('bac');
    expect(names(moveWave([a, b, c], 0, -1))).toBe('abc');
    expect(names(moveWave([a, b, c], 2, 1))).toBe('abc');
    expect(names(moveWave([a, b, c], 7, 1))).toBe('abc');
  });
});
