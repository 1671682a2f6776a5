import { describe, expect, it } from 'vitest';
import { enrolCommands, shellWord } from './enrol-command';

describe('enrolment command', () => {
  it('is the README command with the console origin and the new token', () => {
    const c = enrolCommands('http://localhost:8080', 'brier1.eyJhIjoxfQ.abc_DEF-123');
    expect(c.enroll).toBe(
      'npx brier-agent enroll --server http://localhost:8080 --token brier1.eyJhIjoxfQ.abc_DEF-123 --state-dir ./agent-state',
    );
    expect(c.run).toBe('npx brier-agent run --state-dir ./agent-state');
    expect(c.serviceEnroll).toBe(
      'sudo node /opt/brier/packages/agent/bin/brier-agent.js enroll --server http://localhost:8080 --token brier1.eyJhIjoxfQ.abc_DEF-123',
    );
    expect(c.serviceStart).toBe('sudo systemctl enable --now brier-agent');
  });

  it('drops a trailing slash from the server URL', () => {
    expect(enrolCommands('https://brier.example/', 't').enroll).toContain('--server https://brier.example --token t ');
  });

  it('quotes anything a shell would interpret, so a pasted command cannot run more than the agent', () => {
    const c = enrolCommands('https://brier.example', "x'; rm -rf / #$(id)`id`");
    expect(c.enroll).toContain(`--token 'x'\\''; rm -rf / #$(id)\`id\`' --state-dir`);
    expect(shellWord('a b')).toBe("'a b'");
    expect(shellWord('')).toBe("''");
    expect(shellWord('$HOME')).toBe("'$HOME'");
  });

  it('shows control, invisible and bidi characters instead of hiding them in the command', () => {
    expect(shellWord('tok\u202Een\n')).toBe("'tok⟨U+202E⟩en⟨U+000A⟩'");
    expect(shellWord('a\u0000b\tc')).toBe("'a⟨U+0000⟩b⟨U+0009⟩c'");
  });
});
