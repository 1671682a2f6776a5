/**
 * The softwareupdate fixtures are RECONSTRUCTED by hand, not captured (no Mac here), in the
 * `softwareupdate --list` layout of macOS 13 and 14 (`* Label:` line, tab-indented detail line
 * ending in a comma): a Sonoma list with OS, Safari, Xcode tools and a "Deferred" field, and a
 * Ventura list offering a Rapid Security Response, a major upgrade and a minor update.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandRunner } from '../../run-command.js';
import { collectSoftwareUpdates, parseDetailLine, parseSoftwareUpdateList, SOFTWAREUPDATE } from './softwareupdate.js';

const fixture = (name: string) => readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');

describe('parseDetailLine', () => {
  it('splits on the known keys only, so a comma inside the title stays', () => {
    const fields = parseDetailLine(
      '\tTitle: Pro Video Formats, 2nd edition, Version: 2.3, Size: 25871KiB, Recommended: YES, Action: restart,',
    );
    expect(Object.fromEntries(fields)).toEqual({
      Title: 'Pro Video Formats, 2nd edition',
      Version: '2.3',
      Size: '25871KiB',
      Recommended: 'YES',
      Action: 'restart',
    });
  });
});

describe('parseSoftwareUpdateList', () => {
  it('reads macOS 14 items, named by the label softwareupdate --install takes', () => {
    const updates = parseSoftwareUpdateList(fixture('softwareupdate-list-14.txt'));
    expect(updates.map((u) => u.name)).toEqual([
      'macOS Sonoma 14.5-23F79',
      'Safari17.5SonomaAuto-17.5',
      'Command Line Tools for Xcode-15.3',
      'Pro Video Formats-2.3',
    ]);
    expect(updates[0]).toEqual({
      manager: 'softwareupdate',
      kind: 'patch',
      name: 'macOS Sonoma 14.5-23F79',
      arch: '',
      candidateVersion: '14.5',
      title: 'macOS Sonoma 14.5',
      security: false,
      rebootLikely: true,
    });
    expect(updates[1]).toMatchObject({ title: 'Safari', candidateVersion: '17.5', rebootLikely: false });
  });

  it('marks a Rapid Security Response security and keeps its version as printed', () => {
    const updates = parseSoftwareUpdateList(fixture('softwareupdate-list-13.txt'));
    expect(updates).toHaveLength(3);
    expect(updates[0]).toMatchObject({
      name: 'macOS Ventura 13.4.1 (a)-22F770820d',
      candidateVersion: '13.4.1 (a)',
      security: true,
      rebootLikely: true,
    });
    expect(updates.slice(1).map((u) => u.security)).toEqual([false, false]);
  });

  it('returns nothing when no software is available or the layout is the pre-10.15 one', () => {
    expect(parseSoftwareUpdateList('Software Update Tool\n\nFinding available software\nNo new software available.\n')).toEqual([]);
    expect(
      parseSoftwareUpdateList(
        '   * macOS High Sierra 10.13.6 Update-\n\tmacOS High Sierra 10.13.6 Update (10.13.6), 1234K [recommended] [restart]\n',
      ),
    ).toEqual([]);
    expect(parseSoftwareUpdateList('* Label: No Version-1\n\tTitle: No Version, Size: 1KiB,\n')).toEqual([]);
  });
});

describe('collectSoftwareUpdates', () => {
  it('runs softwareupdate --list by absolute path', async () => {
    const calls: (readonly string[])[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      return { stdout: fixture('softwareupdate-list-14.txt'), stderr: '', code: 0 };
    };
    expect(await collectSoftwareUpdates(run)).toHaveLength(4);
    expect(calls).toEqual([[SOFTWAREUPDATE, '--list']]);
    expect(SOFTWAREUPDATE).toBe('/usr/sbin/softwareupdate');
  });

  it('fails quoting stderr when the catalogue cannot be reached', async () => {
    const failing: CommandRunner = async () => ({ stdout: '', stderr: 'Cannot connect to the Software Update server', code: 1 });
    await expect(collectSoftwareUpdates(failing)).rejects.toThrow(/exited with code 1: Cannot connect/);
  });
});
